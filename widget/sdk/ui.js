// @ts-check
/** What the Chatbox (and later the Popup and Inbox) share: the iframe, selection, mounting, events. */

import { Bridge } from "./bridge.js";
import { ConversationBuilder } from "./conversation.js";
import { TalkError, callHandlers, fail, fromServer } from "./errors.js";
import { userId } from "./user.js";

export class UIBox {
  /** @param {any} session @param {string} kind @param {Record<string, any>} options */
  constructor(session, kind, options) {
    this.session = session;
    this.kind = kind;
    this.options = options;
    this.isAlive = true;
    this.currentConversation = null;
    /** @type {HTMLIFrameElement | null} */ this.iframe = null;
    /** @type {Bridge | null} */ this.bridge = null;
    /** @type {Record<string, any> | null} */ this.selection = null;
    /** @type {Map<string, Set<Function>>} */ this.handlers = new Map();
    this.messageField = new MessageField(this);
  }

  /** Show a conversation (builder or id), or nothing with null. Syncs the builder's changes. */
  select(conversation, options = {}) {
    try {
      this.requireAlive();
      this.selection = this.selectionFor(conversation, options || {});
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.bridge) return Promise.resolve(); // applied when mounted
    return this.bridge.request("select", this.selection).then((reply) => settle(reply));
  }

  selectionFor(conversation, options) {
    if (typeof options !== "object") throw fail("INVALID_ARGUMENT", "select options must be an object like {asGuest: true}");
    if (conversation === null || conversation === undefined) {
      this.currentConversation = null;
      return { conversation: null };
    }
    if (conversation instanceof ConversationBuilder) {
      // Always synced: that creates the conversation if needed (as the app's settings allow).
      this.currentConversation = conversation;
      return { conversation: conversation.toSync(), sync: true, asGuest: !!options.asGuest };
    }
    const id = userId(conversation, "select: conversation id");
    this.currentConversation = { id };
    return { conversation: { conversationId: id }, sync: false, asGuest: !!options.asGuest };
  }

  /** Whether this UI is in the page showing that conversation (desktop notifications skip it then). */
  showsConversation(id) {
    return !!this.iframe && !!this.currentConversation && this.currentConversation.id === id;
  }

  /** Render into an element; resolves once the UI has connected and shown its conversation. */
  async mount(element) {
    this.requireAlive();
    if (!(element instanceof HTMLElement)) {
      throw fail("MOUNT_TARGET_MISSING", `mount() needs a DOM element, got ${describe(element)}`);
    }
    await this.start(element);
  }

  /** Create the frame inside `element`, wait for it, and hand it the session and the selection. */
  async start(element) {
    if (this.iframe) throw fail("ALREADY_MOUNTED", `this ${this.kind} is already mounted`);
    await this.session.checkApp();
    await this.session.ensureToken();
    await this.createFrame(element);
    this.watchHost();
    const reply = await /** @type {Bridge} */ (this.bridge).request("init", this.initMessage());
    settle(reply);
  }

  /** Tell the frame whether the page is visible and focused: messages count as read only then. */
  watchHost() {
    const report = () => setTimeout(() => this.bridge?.send("hostState", hostState()), 0);
    this.hostListeners = [
      [document, "visibilitychange", report],
      [window, "focus", report],
      [window, "blur", report],
    ];
    for (const [target, name, listener] of this.hostListeners) target.addEventListener(name, listener);
  }

  createFrame(element) {
    const iframe = document.createElement("iframe");
    const origin = encodeURIComponent(window.location.origin);
    iframe.src = `${this.session.baseUrl}/embed/${encodeURIComponent(this.session.appId)}/${this.kind}?origin=${origin}`;
    iframe.title = "Chat";
    iframe.setAttribute("allow", "clipboard-write");
    iframe.style.cssText = "width:100%;height:100%;border:0;display:block;";
    this.iframe = iframe;
    this.bridge = new Bridge(iframe, new URL(this.session.baseUrl).origin);
    let isReady = false;
    const ready = new Promise((resolve, reject) => {
      this.bridge?.on("ready", () => {
        isReady = true;
        resolve(undefined);
      });
      // A frame that loaded but never said "ready" is Parley's refusal page (e.g. an origin not allowed).
      iframe.addEventListener("load", () =>
        setTimeout(() => isReady || reject(refusedFrame(this.session.appId)), FRAME_READY_MS)
      );
    });
    this.listen(this.bridge);
    element.replaceChildren(iframe); // like TalkJS: the UI takes the element over ("Loading chat..." goes)
    return ready;
  }

  initMessage() {
    return {
      hostState: hostState(),
      auth: this.session.auth(),
      options: this.options,
      interceptSend: this.count("sendMessage") > 0,
      selection: this.selection,
    };
  }

  /** @param {Bridge} bridge */
  listen(bridge) {
    bridge.on("error", (error) => fromServer(error));
    bridge.on("sendMessage", (data, requestId) => bridge.send("reply", this.sendMessageDecision(data), requestId));
    bridge.on("focus", () => this.emit("focus", {}));
    bridge.on("unread", ({ count }) => this.onUnread(count));
    bridge.on("refreshToken", async (_, requestId) => {
      const token = await this.session.fetchToken().catch(() => null);
      bridge.send("reply", { token }, requestId);
    });
    bridge.on("blur", () => this.emit("blur", {}));
  }

  sendMessageDecision(data) {
    const decision = { cancel: false, text: data.message.text, custom: data.message.custom };
    const event = {
      message: data.message,
      me: this.session.me,
      conversation: this.currentConversation,
      override(changes) {
        if (changes && typeof changes.text === "string") decision.text = changes.text;
        if (changes && changes.custom && typeof changes.custom === "object") decision.custom = changes.custom;
      },
      preventDefault() {
        decision.cancel = true;
      },
    };
    this.emit("sendMessage", event);
    return decision;
  }

  /** `on("sendMessage" | "focus" | "blur", handler)`, the older event form. */
  on(name, handler) {
    if (typeof handler !== "function") throw fail("INVALID_ARGUMENT", `${name} handler must be a function`);
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name)?.add(handler);
    if (name === "sendMessage") this.bridge?.send("interceptSend", true);
    return { unsubscribe: () => this.off(name, handler) };
  }

  off(name, handler) {
    this.handlers.get(name)?.delete(handler);
    if (name === "sendMessage" && this.count(name) === 0) this.bridge?.send("interceptSend", false);
  }

  /** The frame's unread count for its conversation changed (a Popup shows it on its launcher). */
  onUnread(count) {
    this.unreadCount = count;
  }

  onSendMessage(handler) {
    return this.on("sendMessage", handler);
  }

  onFocus(handler) {
    return this.on("focus", handler);
  }

  onBlur(handler) {
    return this.on("blur", handler);
  }

  count(name) {
    return this.handlers.get(name)?.size || 0;
  }

  emit(name, event) {
    callHandlers(this.handlers.get(name) || [], event, `a ${name}`);
  }

  destroy() {
    if (!this.isAlive) return;
    this.isAlive = false;
    for (const [target, name, listener] of this.hostListeners || []) target.removeEventListener(name, listener);
    this.bridge?.close();
    this.iframe?.remove();
    this.iframe = null;
    this.bridge = null;
    this.session.forget(this);
  }

  requireAlive() {
    if (!this.isAlive) throw fail("DESTROYED", `this ${this.kind} was destroyed`);
  }
}

/** `ui.messageField`: drive the composer from the host page. */
class MessageField {
  constructor(ui) {
    this.ui = ui;
    this.text = "";
  }
  focus() {
    this.ui.bridge?.send("messageField", { op: "focus" });
  }
  setText(text) {
    this.ui.bridge?.send("messageField", { op: "setText", text: String(text) });
  }
  typeText(text) {
    this.ui.bridge?.send("messageField", { op: "typeText", text: String(text) });
  }
  setVisible(visible) {
    this.ui.bridge?.send("messageField", { op: "setVisible", visible: !!visible });
  }
  async getText() {
    if (!this.ui.bridge) return "";
    const reply = await this.ui.bridge.request("messageField", { op: "getText" });
    return reply.text || "";
  }
}

const FRAME_READY_MS = 5000;

function refusedFrame(appId) {
  return fail(
    "FRAME_REFUSED",
    `Parley refused to show the chat on this page (app ${appId}): if the app has allowed origins, add ${window.location.origin}`
  );
}

function hostState() {
  return { visible: document.visibilityState === "visible", focused: document.hasFocus() };
}

export function settle(reply) {
  if (reply && reply.error) throw fromServer(reply.error);
}

function describe(value) {
  if (value === null) return "null";
  if (value === undefined) return "undefined (is the element in the page yet?)";
  return typeof value;
}

export { TalkError };
