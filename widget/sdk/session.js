// @ts-check
/** `Talk.Session`: who is chatting, in which app; creates the UIs. */

import { Chatbox } from "./chatbox.js";
import { ConversationBuilder } from "./conversation.js";
import { DesktopNotifications } from "./desktop.js";
import { callHandlers, fail } from "./errors.js";
import { Inbox } from "./inbox.js";
import { sdkMessage } from "./message.js";
import { Popup } from "./popup.js";
import { SessionRealtime } from "./realtime.js";
import { Unreads } from "./unreads.js";
import { User, userId } from "./user.js";

export class Session {
  /** @param {Record<string, any>} options @param {string} baseUrl */
  constructor(options, baseUrl) {
    if (!options || typeof options !== "object") {
      throw fail("INVALID_ARGUMENT", "new Talk.Session() takes {appId, me}");
    }
    if (typeof options.appId !== "string" || !options.appId) {
      throw fail("INVALID_ARGUMENT", "new Talk.Session() needs appId, the App ID from your Parley dashboard");
    }
    if (options.me === undefined || options.me === null) {
      throw fail("INVALID_ARGUMENT", "new Talk.Session() needs me: the current user (a Talk.User or a user id)");
    }
    this.appId = options.appId;
    this.me = options.me instanceof User ? options.me : new User(userId(options.me, "me"));
    this.signature = options.signature;
    this.token = options.token;
    if (options.tokenFetcher !== undefined && typeof options.tokenFetcher !== "function") {
      throw fail("INVALID_ARGUMENT", "tokenFetcher must be a function that returns a Promise of a token");
    }
    this.tokenFetcher = options.tokenFetcher;
    this.baseUrl = baseUrl;
    this.isAlive = true;
    /** @type {Map<string, ConversationBuilder>} */ this.conversations = new Map();
    /** @type {Set<any>} */ this.uis = new Set();
    /** @type {Set<Function>} */ this.messageHandlers = new Set();
    /** @type {SessionRealtime | null} */ this.connection = null;
    this.unreads = new Unreads(this);
    this.desktop = new DesktopNotifications(this);
    this.appCheck = this.fetchApp();
    if (this.desktop.isActive()) this.realtime(); // enabled before (a reload): notify again at once
  }

  /** Checked once, as soon as the session exists: an unknown appId is reported at once. */
  fetchApp() {
    const url = `${this.baseUrl}/embed/${encodeURIComponent(this.appId)}/app.json`;
    return fetch(url).then(
      async (response) => {
        if (response.ok) return response.json();
        const body = await response.json().catch(() => ({}));
        const code = body.errorCode === "APP_NOT_FOUND" ? "UNKNOWN_APP" : body.errorCode || "SERVER_ERROR";
        return fail(code, body.message || `checking appId ${this.appId} failed with HTTP ${response.status}`);
      },
      (error) => fail("NETWORK_ERROR", `could not reach Parley at ${this.baseUrl}: ${error}`)
    );
  }

  async checkApp() {
    const result = await this.appCheck;
    if (result instanceof Error) throw result;
    return result;
  }

  /** A token from `tokenFetcher` when the session has none yet. */
  async ensureToken() {
    if (this.tokenFetcher && !this.token) await this.fetchToken();
  }

  /** Ask `tokenFetcher` for a (new) token; used at start and when the server says it expired. */
  async fetchToken() {
    if (!this.tokenFetcher) return null;
    const token = await this.tokenFetcher();
    if (typeof token !== "string" || !token) throw fail("INVALID_TOKEN", "tokenFetcher must resolve to a token string");
    this.token = token;
    return token;
  }

  /** Whether the server accepts this session's signature or token. Never rejects. */
  async hasValidCredentials() {
    try {
      await this.ensureToken();
      const response = await fetch(`${this.baseUrl}/embed/${encodeURIComponent(this.appId)}/credentials`, {
        method: "POST",
        headers: { "Content-Type": "text/plain;charset=UTF-8" }, // a "simple" request: no CORS preflight
        body: JSON.stringify({ me: this.me.id, signature: this.signature, token: this.token }),
      });
      return response.ok && (await response.json()).valid === true;
    } catch {
      return false;
    }
  }

  auth() {
    const auth = { appId: this.appId, me: this.me.toSync() };
    if (this.signature !== undefined) auth.signature = this.signature;
    if (this.token !== undefined) auth.token = this.token;
    return auth;
  }

  /** The same builder for the same id, so changes made in several places add up. */
  getOrCreateConversation(id) {
    this.requireAlive();
    const conversationId = userId(id, "getOrCreateConversation: conversation id");
    if (!this.conversations.has(conversationId)) {
      this.conversations.set(conversationId, new ConversationBuilder(conversationId));
    }
    return /** @type {ConversationBuilder} */ (this.conversations.get(conversationId));
  }

  /** `createChatbox(options?)`, or the older `createChatbox(conversation, options?)`. */
  createChatbox(conversationOrOptions, options) {
    return this.createUI(Chatbox, conversationOrOptions, options);
  }

  /** `createPopup(options?)`, or the older `createPopup(conversation, options?)`. */
  createPopup(conversationOrOptions, options) {
    return this.createUI(Popup, conversationOrOptions, options);
  }

  createInbox(options) {
    this.requireAlive();
    const inbox = new Inbox(this, options);
    this.uis.add(inbox);
    return inbox;
  }

  createUI(Kind, conversationOrOptions, options) {
    this.requireAlive();
    const older = conversationOrOptions instanceof ConversationBuilder;
    const ui = new Kind(this, older ? options : conversationOrOptions);
    this.uis.add(ui);
    if (older) ui.select(conversationOrOptions).catch(() => {}); // reported by mount
    return ui;
  }

  getChatboxes() {
    return [...this.uis].filter((ui) => ui instanceof Chatbox);
  }

  getPopups() {
    return [...this.uis].filter((ui) => ui instanceof Popup);
  }

  getInboxes() {
    return [...this.uis].filter((ui) => ui instanceof Inbox);
  }

  /** Messages in the user's participant conversations (never in conversations opened as a guest). */
  onMessage(handler) {
    if (typeof handler !== "function") throw fail("INVALID_ARGUMENT", "onMessage takes a function");
    this.messageHandlers.add(handler);
    this.realtime();
    return { unsubscribe: () => this.messageHandlers.delete(handler) };
  }

  on(name, handler) {
    if (name !== "message") throw fail("INVALID_ARGUMENT", `session.on: unknown event ${JSON.stringify(name)} (use "message")`);
    return this.onMessage(handler);
  }

  off(name, handler) {
    this.messageHandlers.delete(handler);
  }

  dispatchMessage({ message, sender }) {
    callHandlers(this.messageHandlers, sdkMessage(message, sender, this.me.id), "an onMessage");
    this.desktop.consider({ message, sender });
  }

  /** Turn desktop notifications on (asking the browser's permission) or off; remembered per app and user. */
  async setDesktopNotificationEnabled(enabled, options = {}) {
    this.requireAlive();
    return this.desktop.setEnabled(enabled, options);
  }

  /** Whether notifications are on and the browser allows them. */
  async isDesktopNotificationEnabled() {
    return this.desktop.isActive();
  }

  onDesktopNotificationClicked(handler) {
    return this.desktop.on("clicked", handler, "onDesktopNotificationClicked");
  }

  onBrowserPermissionNeeded(handler) {
    return this.desktop.on("needed", handler, "onBrowserPermissionNeeded");
  }

  onBrowserPermissionDenied(handler) {
    return this.desktop.on("denied", handler, "onBrowserPermissionDenied");
  }

  /** The session's own connection, opened on first need. */
  realtime() {
    this.requireAlive();
    if (!this.connection) this.connection = new SessionRealtime(this);
    return this.connection;
  }

  forget(ui) {
    this.uis.delete(ui);
  }

  destroy() {
    for (const ui of [...this.uis]) ui.destroy();
    this.connection?.close();
    this.connection = null;
    this.isAlive = false;
  }

  requireAlive() {
    if (!this.isAlive) throw fail("DESTROYED", "this session was destroyed");
  }
}
