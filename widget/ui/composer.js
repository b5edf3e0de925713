// @ts-check
/** The composer: Enter sends, Shift+Enter starts a new line; reports typing. */

import { el } from "./format.js";

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;
export const MAX_MESSAGE_LENGTH = 10_000;

export class Composer {
  /**
   * @param {(text: string) => void} onSend
   * @param {(isTyping: boolean) => void} onTyping
   */
  constructor(onSend, onTyping) {
    this.onSend = onSend;
    this.onTyping = onTyping;
    this.enterSends = true;
    this.typingSince = 0;
    this.idleTimer = 0;
    this.input = el("textarea", { class: "composer__input", rows: "1", "aria-label": "Message", placeholder: "Say something…", maxlength: String(MAX_MESSAGE_LENGTH) });
    this.button = el("button", { type: "submit", class: "composer__send" }, "Send");
    this.element = el("form", { class: "composer", "aria-label": "Send a message" }, this.input, this.button);
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("input", () => this.typed());
  }

  /** @param {Record<string, any>} field the `messageField` option */
  configure(field = {}) {
    if (typeof field.placeholder === "string") this.input.setAttribute("placeholder", field.placeholder);
    if (field.enterSendsMessage === false) this.enterSends = false;
    if (field.spellcheck === false) this.input.setAttribute("spellcheck", "false");
    if (field.visible === false) this.setVisible(false);
    if (field.autofocus === "smart" || field.autofocus === true) this.focus();
  }

  keydown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && this.enterSends) {
      event.preventDefault();
      this.submit();
    }
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = "";
    this.stopTyping();
    this.onSend(text);
  }

  typed() {
    const now = Date.now();
    if (!this.input.value) return this.stopTyping();
    if (now - this.typingSince > TYPING_REPEAT_MS) {
      this.typingSince = now;
      this.onTyping(true);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.idleTimer);
    if (this.typingSince) this.onTyping(false);
    this.typingSince = 0;
  }

  setEnabled(enabled, reason = "") {
    this.input.disabled = !enabled;
    this.button.disabled = !enabled;
    if (reason) this.input.setAttribute("placeholder", reason);
  }

  setVisible(visible) {
    this.element.hidden = !visible;
  }

  focus() {
    this.input.focus();
  }

  setText(text) {
    this.input.value = text;
  }

  getText() {
    return this.input.value;
  }
}
