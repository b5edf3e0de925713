// @ts-check
/**
 * Tells the server which conversation this frame shows in a visible, focused UI (or none): its
 * viewers are not notified of its messages by email or SMS. Sent only when it changes, and again
 * after a reconnect (a new connection starts viewing nothing). Guests are never notified: a guest
 * frame says nothing.
 */

const UNKNOWN = Symbol("unknown"); // never equal to a conversation id or null

export class ViewingReporter {
  /** @param {{state: any, isSeen: () => boolean, connection: any}} controller */
  constructor(controller) {
    this.controller = controller;
    /** @type {string | null | symbol} what the server was last told */ this.sent = null;
    const later = () => setTimeout(() => this.update(), 0); // document.hasFocus() settles after the event
    window.addEventListener("blur", later);
    window.addEventListener("focus", later);
    document.addEventListener("visibilitychange", later);
  }

  /** The conversation viewed now, as the server should know it. */
  current() {
    const { state } = this.controller;
    return state && !state.isGuest && this.controller.isSeen() ? state.id : null;
  }

  update() {
    const connection = this.controller.connection;
    const viewing = this.current();
    if (viewing === this.sent || !connection?.connected) return;
    this.sent = viewing;
    connection.request("conversation:view", { conversationId: viewing }).catch(() => {
      // Not taken (e.g. NOT_JOINED during a rejoin, or offline): unknown, so the next change says it again.
      if (this.sent === viewing) this.sent = UNKNOWN;
    });
  }

  /** A new connection views nothing until told. */
  reset() {
    this.sent = null;
  }
}
