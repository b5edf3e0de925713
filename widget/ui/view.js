// @ts-check
/** The whole chat UI: header, member list, status line, messages, typing line, composer. */

import { Composer } from "./composer.js";
import { el } from "./format.js";
import { Header } from "./header.js";
import { MessageList } from "./message-list.js";

export class ChatView {
  /**
   * @param {HTMLElement} root
   * @param {{onSend: (text: string) => void, onTyping: (isTyping: boolean) => void, onNearTop: () => void}} actions
   */
  constructor(root, kind, actions) {
    this.kind = kind;
    this.header = new Header();
    this.status = el("p", { class: "status", role: "status", "aria-live": "polite", hidden: true });
    this.notice = el("p", { class: "notice notice--error", role: "alert", hidden: true });
    this.list = new MessageList(actions.onNearTop);
    this.typing = el("p", { class: "typing", "aria-live": "polite" });
    this.composer = new Composer(actions.onSend, actions.onTyping);
    if (actions.onClose) this.header.close.addEventListener("click", actions.onClose);
    if (actions.onBack) this.header.back.addEventListener("click", actions.onBack);
    root.replaceChildren(this.header.element, this.header.members, this.status, this.notice, this.list.element, this.typing, this.composer.element);
    this.root = root;
    this.list.clear("Connecting…");
    this.composer.setEnabled(false);
  }

  /** @param {Record<string, any>} options the UI's options from the SDK */
  configure(options) {
    if (options.showChatHeader === false) this.header.element.hidden = true;
    if (options.dir === "rtl" || options.dir === "ltr") this.root.setAttribute("dir", options.dir);
    this.composer.configure(options.messageField || {});
  }

  /** Connection state as people should see it. */
  setStatus(status) {
    const text = { reconnecting: "Reconnecting…", connecting: "Connecting…" }[status] || "";
    this.status.textContent = text;
    this.status.hidden = !text;
    this.root.classList.toggle("chat--offline", status === "reconnecting");
  }

  /** A readable error in place of the conversation (or above it, if `keep`). */
  showError(error, keep = false) {
    this.notice.textContent = `${error.message} (${error.code})`;
    this.notice.hidden = false;
    if (!keep) {
      this.header.clear();
      this.list.clear("This conversation cannot be shown.");
      this.composer.setEnabled(false);
    }
  }

  /** A passing notice above the conversation, in visitors' words; the conversation stays. */
  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  clearError() {
    this.notice.hidden = true;
    this.notice.textContent = "";
  }

  showEmpty() {
    this.header.clear();
    this.list.clear("No conversation selected.");
    this.composer.setEnabled(false);
    this.typing.textContent = "";
  }

  /** @param {import("./state.js").ConversationState} state */
  render(state, myId, pending, how = {}) {
    this.header.render(state, myId);
    this.list.render(state, myId, pending, how);
    this.renderTyping(state, myId);
    const canSend = state.me.access === "ReadWrite";
    this.composer.setEnabled(canSend, canSend ? "" : "You can read this conversation but not write in it.");
  }

  renderTyping(state, myId) {
    const names = state.typingNames(myId);
    this.typing.textContent =
      names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`;
  }
}
