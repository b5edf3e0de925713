// @ts-check
/**
 * The chat frame's logic: one connection, the selected conversation, sending with an outbox,
 * catching up after a reconnect. The view only draws; the bridge only carries messages.
 */

import { catchUp } from "./catchup.js";
import { Connection } from "./connection.js";
import { Outbox } from "./outbox.js";
import { ConversationState } from "./state.js";
import { ViewingReporter } from "./viewing.js";
import { visitorText } from "./wording.js";

const SEND_DECISION_TIMEOUT_MS = 5000;
const UNAVAILABLE_RETRY_S = 3; // TEMPORARILY_UNAVAILABLE (e.g. a guest place that cannot be counted while Redis is away)

export class ChatController {
  /** @param {import("./bridge.js").ParentBridge} bridge @param {import("./view.js").ChatView} view */
  constructor(bridge, view) {
    this.bridge = bridge;
    this.view = view;
    /** @type {Connection | null} */ this.connection = null;
    /** @type {ConversationState | null} */ this.state = null;
    /** @type {Record<string, any> | null} */ this.selection = null;
    this.outbox = new Outbox();
    this.myId = "";
    this.interceptSend = false;
    this.loadingOlder = false;
    this.flushing = false;
    this.shown = true; // a Popup hides it
    this.hostActive = true; // the embedding page is visible and focused (told by the SDK)
    this.reportedUnread = -1;
    this.retryTimer = 0;
    this.viewing = new ViewingReporter(this);
    window.addEventListener("focus", () => this.markRead());
  }

  /** Messages count as read only when shown in a visible, focused UI. */
  isSeen() {
    return this.shown && document.visibilityState === "visible" && (this.hostActive || document.hasFocus());
  }

  setShown(shown) {
    this.shown = shown;
    this.markRead();
  }

  setHostState({ visible, focused }) {
    this.hostActive = !!visible && !!focused;
    this.markRead();
  }

  /** Move the read marker to the newest message when it is seen (participants only). */
  markRead() {
    this.viewing.update();
    const state = this.state;
    if (!state || state.isGuest || !this.isSeen() || !state.lastMessageId) return this.reportUnread();
    if (state.unread === 0 && state.lastMarked === state.lastMessageId) return this.reportUnread();
    state.lastMarked = state.lastMessageId;
    state.unread = 0;
    this.reportUnread();
    this.connection?.emit("conversation:read", { conversationId: state.id, messageId: state.lastMessageId });
  }

  reportUnread() {
    const count = this.state && !this.state.isGuest ? this.state.unread : 0;
    if (count !== this.reportedUnread) {
      this.reportedUnread = count;
      this.bridge.send("unread", { count });
    }
  }

  /** The SDK's `init`: connect as the session's user, then show the selected conversation. */
  async init({ auth, options, interceptSend, selection, hostState }) {
    this.myId = typeof auth.me === "object" ? String(auth.me.id) : String(auth.me);
    if (hostState) this.hostActive = !!hostState.visible && !!hostState.focused;
    this.interceptSend = !!interceptSend;
    this.view.configure(options || {});
    const refused = await this.connect(auth);
    if (refused) return { error: refused };
    return selection ? this.select(selection) : {};
  }

  /** Resolves once connected (null) or refused (the error). */
  connect(auth) {
    return new Promise((resolve) => {
      // The page this frame is embedded in: checked against the app's allowed origins.
      this.connection = new Connection({ ...auth, origin: this.bridge.origin }, async (status, error) => {
        if (status === "refused" && error.code === "TOKEN_EXPIRED" && (await this.refreshToken())) return;
        if (status === "refused" && error.code === "RATE_LIMITED") return this.retryLater(error, () => this.connection?.socket.connect());
        this.onStatus(status, error);
        if (status === "connected") resolve(null);
        if (status === "refused") resolve(error);
      });
      for (const [event, handler] of Object.entries(this.liveEvents())) this.connection.on(event, handler);
    });
  }

  /** Refused for going too fast: say so in visitors' words, and try again when the server says to. */
  retryLater(error, again) {
    this.view.showNotice(visitorText(error) || error.message);
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => {
      this.view.clearError();
      again();
    }, Math.max(1, error.retryAfter || 1) * 1000);
  }

  /** A refusal, shown; one the server will soon get past (something shared briefly out of reach) is retried. */
  showOrRetry(error, again) {
    if (error.code === "TEMPORARILY_UNAVAILABLE") this.retryLater({ ...error, retryAfter: UNAVAILABLE_RETRY_S }, again);
    else this.view.showError(error);
  }

  /** The server refused an expired token: ask the page's tokenFetcher for a new one and retry once. */
  async refreshToken() {
    if (this.tokenRefreshed) return false;
    this.tokenRefreshed = true;
    const reply = await this.bridge.request("refreshToken", {}, 10_000, {});
    const socket = this.connection?.socket;
    if (!reply.token || !socket) return false;
    socket.auth = { ...socket.auth, token: reply.token };
    socket.connect();
    return true;
  }

  onStatus(status, error) {
    if (status === "connected" || status === "reconnected") this.tokenRefreshed = false;
    this.view.setStatus(status);
    if (status === "reconnected") this.viewing.reset();
    if (status === "reconnected") {
      if (this.state) this.resume();
      else if (this.selection?.conversation) {
        // A selection that failed (e.g. TEMPORARILY_UNAVAILABLE) and was waiting to retry: retry now, on the new connection.
        clearTimeout(this.retryTimer);
        this.select(this.selection);
      }
    }
    if (status === "refused" || status === "closed") {
      this.view.showError(error);
      this.bridge.send("error", error);
    }
  }

  /** The SDK's `select`: sync the builder's changes (if any), then join. */
  async select(selection) {
    await this.leave();
    this.selection = selection;
    if (!selection.conversation) {
      this.view.showEmpty();
      return {};
    }
    try {
      if (selection.sync) await this.request("conversation:sync", selection.conversation);
      await this.join();
      this.view.clearError();
      return {};
    } catch (error) {
      this.state = null;
      this.showOrRetry(error, () => this.select(selection));
      return { error: { code: error.code, message: error.message } };
    }
  }

  async leave() {
    if (!this.state) return;
    const conversationId = this.state.id;
    this.state = null;
    this.viewing.update();
    await this.request("conversation:leave", { conversationId }).catch(() => {});
  }

  async join() {
    const conversationId = this.selection?.conversation.conversationId;
    const asGuest = !!this.selection?.asGuest;
    const joined = await this.whileJoining(conversationId, () =>
      this.request("conversation:join", { conversationId, asGuest, view: this.view.kind }),
    );
    this.state = new ConversationState(joined);
    this.replayHeld();
    this.render({ older: false });
    this.markRead();
    this.flush();
  }

  /**
   * Run a (re)join: the conversation's live events that arrive meanwhile are held and applied after
   * its answer, merged by message id, so a message stored between the join's read and the socket's
   * entry into the room is neither lost nor shown twice.
   */
  async whileJoining(conversationId, run) {
    this.joining = { conversationId, held: [] };
    try {
      return await run();
    } catch (error) {
      this.joining = null;
      throw error;
    }
  }

  replayHeld() {
    const held = this.joining ? this.joining.held : [];
    this.joining = null;
    const handlers = this.liveHandlers();
    for (const [event, data] of held) handlers[event](data);
  }

  /** After a reconnect: fetch what was missed (page by page), then send what was queued. */
  async resume() {
    const state = this.state;
    if (!state) return;
    try {
      const join = { asGuest: !!this.selection?.asGuest, view: this.view.kind };
      const joined = await this.whileJoining(state.id, () => catchUp((event, data) => this.request(event, data), state, join));
      if (joined.resync) this.state = new ConversationState(joined);
      else state.refresh(joined);
      this.replayHeld();
      this.render();
      this.markRead();
      this.flush();
    } catch (error) {
      this.showOrRetry(error, () => this.resume());
    }
  }

  request(event, data) {
    if (!this.connection) return Promise.reject({ code: "NOT_CONNECTED", message: "not connected yet" });
    return this.connection.request(event, data);
  }

  render(how = {}) {
    if (!this.state) return;
    this.view.render(this.state, this.myId, this.outbox.visible(this.state.id), how);
  }

  /** The composer's Enter: ask the page's onSendMessage handlers (if any), then queue and send. */
  async send(text) {
    const state = this.state;
    if (!state) return;
    let message = { text, custom: {} };
    if (this.interceptSend) {
      const fallback = { cancel: false, ...message };
      const decision = await this.bridge.request("sendMessage", { message: { ...message, conversationId: state.id } }, SEND_DECISION_TIMEOUT_MS, fallback);
      if (decision.cancel) return;
      message = { text: decision.text, custom: decision.custom || {} };
    }
    this.outbox.add(state.id, message.text, message.custom);
    this.render({ older: false });
    this.flush();
  }

  /** Send queued messages in order, one at a time; stop at the first that cannot be sent now. */
  async flush() {
    if (this.flushing || !this.state || !this.connection?.connected) return;
    this.flushing = true;
    try {
      for (const item of this.outbox.queued(this.state.id)) {
        const { conversationId, text, custom, idempotencyKey } = item;
        try {
          const { message } = await this.request("message:send", { conversationId, text, custom, idempotencyKey });
          this.outbox.settle(idempotencyKey);
          this.state?.merge([message]);
        } catch (error) {
          if (error.retry) break; // offline or no answer: the same key goes again after reconnecting
          if (error.code === "RATE_LIMITED") {
            this.retryLater(error, () => this.flush()); // stays queued, in order, and goes when allowed
            break;
          }
          item.error = error;
        }
        this.render();
      }
    } finally {
      this.flushing = false;
    }
  }

  typing(isTyping) {
    // A guest's typing is never shown to anyone (the server drops it too): do not send it.
    if (this.state && this.state.me.role !== "guest") this.connection?.emit("typing", { conversationId: this.state.id, isTyping });
  }

  /** Scrolled to the top: load the page before the oldest message shown. */
  async loadOlder() {
    const state = this.state;
    if (!state || !state.hasOlder || this.loadingOlder || !state.firstMessageId) return;
    this.loadingOlder = true;
    try {
      const page = await this.request("messages:list", { conversationId: state.id, beforeMessageId: state.firstMessageId });
      state.hasOlder = page.hasOlder;
      state.addUsers(page.users);
      state.merge(page.messages, true);
      if (this.state === state) this.render({ older: true });
    } catch (error) {
      this.view.showError(error, true);
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Server events for the open conversation; held while it is being (re)joined (see whileJoining). */
  liveEvents() {
    const handlers = this.liveHandlers();
    const held = Object.entries(handlers).map(([event, handler]) => [
      event,
      (data) => {
        if (this.joining && conversationOf(event, data) === this.joining.conversationId) this.joining.held.push([event, data]);
        else handler(data);
      },
    ]);
    return Object.fromEntries(held);
  }

  liveHandlers() {
    const mine = (data) => this.state && data.conversationId === this.state.id;
    return {
      "message:new": ({ message, idempotencyKey, sender }) => {
        if (!this.state || message.conversationId !== this.state.id) return;
        if (sender) this.state.addUsers({ [sender.id]: sender });
        if (idempotencyKey && message.senderId === this.myId) this.outbox.settle(idempotencyKey);
        const fresh = this.state.merge([message]);
        if (fresh) this.render();
        this.state.setTyping(message.senderId, false);
        if (fresh && message.senderId !== this.myId) this.state.unread += 1;
        this.markRead();
      },
      "conversation:read": (data) => {
        if (!mine(data) || !this.state) return;
        if (data.userId === this.myId) {
          this.state.unread = 0; // read in another of this user's UIs
          this.reportUnread();
        } else if (this.state.applyRead(data.userId, data.messageId)) this.render();
      },
      "message:updated": ({ message }) => {
        if (this.state && message.conversationId === this.state.id && this.state.merge([message])) this.render();
      },
      "message:deleted": (data) => {
        if (mine(data) && this.state?.remove(data.messageId)) this.render();
      },
      "conversation:updated": ({ conversation }) => {
        if (this.state && conversation.id === this.state.id) {
          this.state.conversation = conversation;
          this.render();
        }
      },
      "conversation:deleted": (data) => {
        if (!mine(data)) return;
        this.state = null;
        this.view.showError({ code: "CONVERSATION_DELETED", message: "This conversation was deleted." });
      },
      "participant:added": (data) => {
        if (!mine(data)) return;
        this.state?.members.set(data.user.id, { ...data.user, access: data.access, notify: data.notify });
        this.render();
      },
      "participant:updated": (data) => this.updateMember(data),
      "participant:removed": (data) => this.removeMember(data),
      typing: (data) => {
        if (!mine(data)) return;
        this.state?.setTyping(data.userId, data.isTyping);
        if (this.state) this.view.renderTyping(this.state, this.myId);
      },
    };
  }

  updateMember(data) {
    const member = this.state?.members.get(data.userId);
    if (!this.state || data.conversationId !== this.state.id || !member) return;
    Object.assign(member, { access: data.access, notify: data.notify });
    if (data.userId === this.myId) Object.assign(this.state.me, { access: data.access, notify: data.notify });
    this.render();
  }

  removeMember(data) {
    if (!this.state || data.conversationId !== this.state.id) return;
    if (data.userId === this.myId) {
      this.state = null;
      this.view.showError({ code: "REMOVED", message: "You are no longer a participant of this conversation." });
      return;
    }
    this.state.members.delete(data.userId);
    this.render();
  }
}

/** The conversation a server event is about (docs/protocol.md, "Server to client"). */
function conversationOf(event, data) {
  if (event === "message:new" || event === "message:updated") return data.message?.conversationId;
  if (event === "conversation:updated") return data.conversation?.id;
  return data?.conversationId;
}
