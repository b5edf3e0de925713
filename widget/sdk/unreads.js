// @ts-check
/** `session.unreads`: the user's participant conversations with unread messages, kept current. */

import { callHandlers, fail } from "./errors.js";
import { sdkUnreads } from "./message.js";

export class Unreads {
  /** @param {any} session */
  constructor(session) {
    this.session = session;
    /** @type {Set<Function>} */ this.handlers = new Set();
    /** @type {any[] | null} */ this.current = null;
  }

  /** Called at once with the current unreads (as soon as known) and again on every change. */
  onChange(handler) {
    if (typeof handler !== "function") throw fail("INVALID_ARGUMENT", "unreads.onChange takes a function");
    this.handlers.add(handler);
    this.session.realtime();
    if (this.current) queueMicrotask(() => this.handlers.has(handler) && handler(this.current));
    return { unsubscribe: () => this.handlers.delete(handler) };
  }

  on(name, handler) {
    if (name !== "change") throw fail("INVALID_ARGUMENT", `unreads.on: unknown event ${JSON.stringify(name)} (use "change")`);
    return this.onChange(handler);
  }

  off(name, handler) {
    this.handlers.delete(handler);
  }

  /** New figures from the server: handlers run the first time and whenever something changed. */
  update(unreads) {
    const next = sdkUnreads(unreads, this.session.me.id);
    const same = this.current && JSON.stringify(summary(next)) === JSON.stringify(summary(this.current));
    this.current = next;
    if (same) return;
    callHandlers(this.handlers, next, "an unreads.onChange");
  }
}

function summary(unreads) {
  return unreads.map((u) => [u.conversation.id, u.unreadMessageCount, u.lastMessage && u.lastMessage.id]);
}
