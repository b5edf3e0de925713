// @ts-check
/** One open conversation as the frame knows it: messages in order without duplicates, members, typing. */

export class ConversationState {
  /** @param {Record<string, any>} joined the `conversation:join` result */
  constructor(joined) {
    this.conversation = joined.conversation;
    this.me = joined.me;
    /** @type {Map<string, any>} */ this.members = new Map(joined.participants.map((p) => [p.id, p]));
    /** Senders who are not members (guests, former members), to name them. @type {Map<string, any>} */
    this.users = new Map();
    this.addUsers(joined.users);
    /** @type {any[]} */ this.messages = [];
    /** @type {Map<string, number>} */ this.typing = new Map();
    this.hasOlder = !!joined.hasOlder;
    this.unread = joined.me.unreadMessageCount || 0; // participants only; guests have no unread tracking
    this.merge(joined.messages);
  }

  /** Another participant read up to `messageId`: everything up to it, not theirs, is read by them. */
  applyRead(userId, messageId) {
    const upTo = this.messages.findIndex((m) => m.id === messageId);
    let changed = false;
    for (const message of this.messages.slice(0, upTo + 1)) {
      if (message.senderId !== userId && !message.readBy.includes(userId)) {
        message.readBy = [...message.readBy, userId];
        changed = true;
      }
    }
    return changed;
  }

  get id() {
    return this.conversation.id;
  }

  /** A rejoin's answer (with what was caught up): the conversation as it is now, the missed messages merged. */
  refresh(joined) {
    this.conversation = joined.conversation;
    this.members = new Map(joined.participants.map((p) => [p.id, p]));
    this.me = joined.me;
    this.unread = joined.me.unreadMessageCount || 0;
    this.addUsers(joined.users);
    this.merge([...joined.missed, ...joined.messages]);
    if (!joined.complete) this.dropBefore(joined.messages[0]?.id); // too much was missed: start again there
  }

  get lastMessageId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : null;
  }

  get firstMessageId() {
    return this.messages.length ? this.messages[0].id : null;
  }

  /**
   * Add messages, some possibly seen before; returns whether anything changed. The server sends
   * each batch in order; `older` batches go in front. The stable sort by time keeps that order
   * among messages of the same millisecond.
   */
  merge(messages, older = false) {
    const known = new Map(this.messages.map((m, i) => [m.id, i]));
    const fresh = [];
    let changed = false;
    for (const message of messages) {
      const index = known.get(message.id);
      if (index === undefined) {
        known.set(message.id, -1); // a batch may repeat a message (a catch-up page and the latest page)
        fresh.push(message);
      } else if (index < 0) continue;
      else if (JSON.stringify(this.messages[index]) !== JSON.stringify(message)) {
        this.messages[index] = message;
        changed = true;
      }
    }
    if (!fresh.length) return changed;
    this.messages = older ? [...fresh, ...this.messages] : [...this.messages, ...fresh];
    this.messages.sort((a, b) => a.createdAt - b.createdAt);
    return true;
  }

  /** Forget the messages before `messageId` (a gap too long to fill); older ones load again on scrolling up. */
  dropBefore(messageId) {
    const index = this.messages.findIndex((m) => m.id === messageId);
    if (index > 0) {
      this.messages = this.messages.slice(index);
      this.hasOlder = true;
    }
  }

  remove(messageId) {
    const before = this.messages.length;
    this.messages = this.messages.filter((m) => m.id !== messageId);
    return this.messages.length !== before;
  }

  addUsers(users) {
    for (const [id, user] of Object.entries(users || {})) this.users.set(id, user);
  }

  /** The sender's user data: a member's, or a guest's or former member's when known. */
  sender(message) {
    return this.members.get(message.senderId) || this.users.get(message.senderId) || null;
  }

  get isGuest() {
    return this.me.role === "guest";
  }

  /** Who else is typing now (entries expire, in case a stop event was lost). */
  typingNames(myId, now = Date.now()) {
    const names = [];
    for (const [userId, until] of this.typing) {
      if (until < now) this.typing.delete(userId);
      else if (userId !== myId) names.push(this.members.get(userId)?.name || "Someone");
    }
    return names;
  }

  setTyping(userId, isTyping, now = Date.now()) {
    if (isTyping) this.typing.set(userId, now + 6000);
    else this.typing.delete(userId);
  }

  /** The title: the subject, else the other members' names. */
  title(myId) {
    if (this.conversation.subject) return this.conversation.subject;
    const others = [...this.members.values()].filter((m) => m.id !== myId).map((m) => m.name);
    return others.join(", ") || "Chat";
  }
}
