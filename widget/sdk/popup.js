// @ts-check
/** `session.createPopup()`: a launcher button at the bottom right and a chat that opens above it. */

import { CHAT_OPTIONS, checkOptions } from "./chatbox.js";
import { fail } from "./errors.js";
import { UIBox } from "./ui.js";

const OPTIONS = { ...CHAT_OPTIONS, keepOpen: "boolean", launcher: "string", showCloseInHeader: "boolean" };
const LAUNCHER_MODES = ["always", "close-only", "never"];

const STYLE = `
:host { all: initial; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
  background: #2f5bd3; color: #fff; font: 600 14px system-ui, sans-serif; cursor: pointer; z-index: 2147483000;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launcher:focus-visible { outline: 3px solid #1d2330; outline-offset: 2px; }
.launcher[hidden] { display: none; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #c62828; color: #fff; font: 700 12px/22px system-ui, sans-serif; box-sizing: border-box; }
.badge[hidden] { display: none; }
.panel { position: fixed; right: 20px; bottom: 90px; width: 380px; height: min(600px, calc(100vh - 110px));
  border-radius: 14px; overflow: hidden; background: #fff; box-shadow: 0 8px 30px rgba(0,0,0,.3); z-index: 2147483000; }
.panel[hidden] { display: none; }
@media (max-width: 640px) { .panel { inset: 0; width: auto; height: auto; border-radius: 0; } }
`;

export class Popup extends UIBox {
  constructor(session, options = {}) {
    const checked = checkOptions(options, OPTIONS, "createPopup");
    if (checked.launcher !== undefined && !LAUNCHER_MODES.includes(checked.launcher)) {
      throw fail("INVALID_ARGUMENT", `createPopup: launcher must be one of ${LAUNCHER_MODES.join(", ")}`);
    }
    super(session, "popup", checked);
    this.isOpen = false;
    this.unreadCount = 0;
    /** @type {HTMLElement | null} */ this.host = null;
  }

  /** Adds the launcher (and, with `{show: true}` or a kept-open state, the open chat) to the page. */
  async mount(options = {}) {
    this.requireAlive();
    if (!options || typeof options !== "object") throw fail("INVALID_ARGUMENT", "popup.mount takes {show?: boolean}");
    if (this.host) throw fail("ALREADY_MOUNTED", "this popup is already mounted");
    const { panel } = this.build();
    this.isOpen = !!options.show || (!!this.options.keepOpen && this.storedOpen());
    this.render();
    await this.start(panel);
  }

  build() {
    const host = document.createElement("div");
    host.setAttribute("data-parley-popup", "");
    const root = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.launcher = document.createElement("button");
    this.launcher.className = "launcher";
    this.launcher.type = "button";
    this.launcher.textContent = "Chat";
    this.badge = document.createElement("span");
    this.badge.className = "badge";
    this.badge.hidden = true;
    this.launcher.append(this.badge);
    this.launcher.addEventListener("click", () => this.toggleByUser());
    this.panel = document.createElement("div");
    this.panel.className = "panel";
    this.panel.setAttribute("role", "dialog");
    this.panel.setAttribute("aria-label", "Chat");
    root.append(style, this.panel, this.launcher);
    document.body.append(host);
    this.host = host;
    return { panel: this.panel };
  }

  initMessage() {
    return { ...super.initMessage(), shown: this.isOpen };
  }

  listen(bridge) {
    super.listen(bridge);
    bridge.on("close", () => this.setOpen(false, true));
  }

  onUnread(count) {
    super.onUnread(count);
    this.render();
  }

  toggleByUser() {
    this.setOpen(!this.isOpen, true);
  }

  /** Open or close; `byUser` fires onOpen/onClose (API calls do not, as in TalkJS). */
  setOpen(open, byUser = false) {
    if (!this.host || open === this.isOpen) return;
    this.isOpen = open;
    this.render();
    this.bridge?.send("shown", { shown: open });
    if (this.options.keepOpen) this.store(open);
    if (byUser) this.emit(open ? "open" : "close", {});
  }

  show() {
    this.setOpen(true);
  }

  showsConversation(id) {
    return this.isOpen && super.showsConversation(id);
  }

  hide() {
    this.setOpen(false);
  }

  onOpen(handler) {
    return this.on("open", handler);
  }

  onClose(handler) {
    return this.on("close", handler);
  }

  render() {
    if (!this.host || !this.panel || !this.launcher || !this.badge) return;
    const mode = this.options.launcher || "always";
    this.panel.hidden = !this.isOpen;
    this.launcher.hidden = mode === "never" || (mode === "close-only" && !this.isOpen);
    this.launcher.setAttribute("aria-expanded", String(this.isOpen));
    this.launcher.setAttribute("aria-label", `${this.isOpen ? "Close" : "Open"} chat${this.unreadCount ? `, ${this.unreadCount} unread` : ""}`);
    this.launcher.firstChild && (this.launcher.firstChild.textContent = this.isOpen ? "×" : "Chat");
    this.badge.hidden = !this.unreadCount;
    this.badge.textContent = String(this.unreadCount);
  }

  storageKey() {
    const conversation = this.currentConversation ? this.currentConversation.id : "";
    return `parley:popup:${this.session.appId}:${this.session.me.id}:${conversation}`;
  }

  storedOpen() {
    try {
      return window.sessionStorage.getItem(this.storageKey()) === "open";
    } catch {
      return false; // storage blocked: the popup simply starts closed
    }
  }

  store(open) {
    try {
      window.sessionStorage.setItem(this.storageKey(), open ? "open" : "closed");
    } catch {
      /* storage blocked: keepOpen cannot survive a reload here */
    }
  }

  destroy() {
    super.destroy();
    this.host?.remove();
    this.host = null;
  }
}
