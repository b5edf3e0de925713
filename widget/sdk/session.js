// @ts-check
/** `Talk.Session`: who is chatting, in which app; creates the UIs. */

import { Chatbox } from "./chatbox.js";
import { ConversationBuilder } from "./conversation.js";
import { fail } from "./errors.js";
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
    this.baseUrl = baseUrl;
    this.isAlive = true;
    /** @type {Map<string, ConversationBuilder>} */ this.conversations = new Map();
    /** @type {Set<any>} */ this.uis = new Set();
    this.appCheck = this.fetchApp();
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
    this.requireAlive();
    const older = conversationOrOptions instanceof ConversationBuilder;
    const chatbox = new Chatbox(this, older ? options : conversationOrOptions);
    this.uis.add(chatbox);
    if (older) chatbox.select(conversationOrOptions).catch(() => {}); // reported by mount
    return chatbox;
  }

  getChatboxes() {
    return [...this.uis].filter((ui) => ui instanceof Chatbox);
  }

  forget(ui) {
    this.uis.delete(ui);
  }

  destroy() {
    for (const ui of [...this.uis]) ui.destroy();
    this.isAlive = false;
  }

  requireAlive() {
    if (!this.isAlive) throw fail("DESTROYED", "this session was destroyed");
  }
}
