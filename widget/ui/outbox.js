// @ts-check
/**
 * Messages the visitor sent that the server has not acknowledged yet. Each carries an
 * idempotency key from the moment it is typed, so resending after a reconnect stores it once.
 */

export class Outbox {
  constructor() {
    /** @type {{conversationId: string, text: string, custom: Record<string, string>, idempotencyKey: string, error?: any}[]} */
    this.items = [];
  }

  add(conversationId, text, custom) {
    const item = { conversationId, text, custom, idempotencyKey: newKey() };
    this.items.push(item);
    return item;
  }

  /** Items still to send for a conversation, oldest first (failed ones wait for the visitor). */
  queued(conversationId) {
    return this.items.filter((item) => item.conversationId === conversationId && !item.error);
  }

  visible(conversationId) {
    return this.items.filter((item) => item.conversationId === conversationId);
  }

  /** Drop the item a stored message answers (by its key); returns whether one was pending. */
  settle(idempotencyKey) {
    const before = this.items.length;
    this.items = this.items.filter((item) => item.idempotencyKey !== idempotencyKey);
    return this.items.length !== before;
  }
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
