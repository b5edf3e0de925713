// @ts-check
/**
 * The host page's side of the postMessage channel to a UI iframe. Messages go to the Parley
 * origin only, and only messages from that iframe's window and origin are accepted.
 */

let nextRequest = 1;

export class Bridge {
  /** @param {HTMLIFrameElement} iframe @param {string} parleyOrigin */
  constructor(iframe, parleyOrigin) {
    this.iframe = iframe;
    this.origin = parleyOrigin;
    /** @type {Map<string, (data: any) => void>} */ this.handlers = new Map();
    /** @type {Map<number, {resolve: Function}>} */ this.pending = new Map();
    this.listener = (event) => this.receive(event);
    window.addEventListener("message", this.listener);
  }

  receive(event) {
    if (event.source !== this.iframe.contentWindow || event.origin !== this.origin) return;
    const message = event.data;
    if (!message || message.parley !== 1) return;
    if (message.type === "reply" && this.pending.has(message.requestId)) {
      const { resolve } = /** @type {any} */ (this.pending.get(message.requestId));
      this.pending.delete(message.requestId);
      resolve(message.data);
      return;
    }
    const handler = this.handlers.get(message.type);
    if (handler) handler(message.data, message.requestId);
  }

  on(type, handler) {
    this.handlers.set(type, handler);
  }

  send(type, data, requestId) {
    const target = this.iframe.contentWindow;
    if (target) target.postMessage({ parley: 1, type, data, requestId }, this.origin);
  }

  /** Send and wait for the frame's `reply`. */
  request(type, data) {
    const requestId = nextRequest++;
    return new Promise((resolve) => {
      this.pending.set(requestId, { resolve });
      this.send(type, data, requestId);
    });
  }

  close() {
    window.removeEventListener("message", this.listener);
    for (const { resolve } of this.pending.values()) resolve({ error: { code: "DESTROYED", message: "the UI was destroyed" } });
    this.pending.clear();
  }
}
