// @ts-check
/** The frame's side of the postMessage channel: talks only to the embedding page's origin. */

export class ParentBridge {
  /** @param {string} parentOrigin */
  constructor(parentOrigin) {
    this.origin = parentOrigin;
    /** @type {Map<string, (data: any, requestId?: number) => any>} */ this.handlers = new Map();
    /** @type {Map<number, Function>} */ this.pending = new Map();
    this.nextRequest = 1;
    window.addEventListener("message", (event) => this.receive(event));
  }

  receive(event) {
    if (event.source !== window.parent || event.origin !== this.origin) return;
    const message = event.data;
    if (!message || message.parley !== 1) return;
    if (message.type === "reply" && this.pending.has(message.requestId)) {
      const resolve = /** @type {Function} */ (this.pending.get(message.requestId));
      this.pending.delete(message.requestId);
      resolve(message.data);
      return;
    }
    const handler = this.handlers.get(message.type);
    if (!handler) return;
    Promise.resolve(handler(message.data, message.requestId)).then((result) => {
      if (message.requestId !== undefined) this.send("reply", result || {}, message.requestId);
    });
  }

  /** Handle a message type; a handler's (awaited) result is the reply to a request. */
  on(type, handler) {
    this.handlers.set(type, handler);
  }

  send(type, data, requestId) {
    window.parent.postMessage({ parley: 1, type, data, requestId }, this.origin);
  }

  /** Ask the page and wait, at most `timeoutMs`, for its reply (then `fallback`). */
  request(type, data, timeoutMs, fallback) {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve(fallback);
      }, timeoutMs);
      this.pending.set(requestId, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.send(type, data, requestId);
    });
  }
}
