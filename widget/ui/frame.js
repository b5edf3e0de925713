// @ts-check
/** What every chat frame does at start: read its config, talk to the page, build the chat. */

import { ParentBridge } from "./bridge.js";
import { ChatController } from "./controller.js";
import { ChatView } from "./view.js";

export function readConfig() {
  return JSON.parse(/** @type {HTMLElement} */ (document.getElementById("parley-config")).textContent || "{}");
}

/**
 * A chat (header, messages, composer) in `root`, driven by the page over `bridge`.
 * @param {ParentBridge} bridge @param {HTMLElement} root @param {string} kind
 */
export function startChat(bridge, root, kind, actions = {}) {
  /** @type {ChatController} */
  let controller;
  const view = new ChatView(root, kind, {
    onSend: (text) => controller.send(text),
    onTyping: (isTyping) => controller.typing(isTyping),
    onNearTop: () => controller.loadOlder(),
    ...actions,
  });
  controller = new ChatController(bridge, view);
  bridge.on("select", (selection) => controller.select(selection));
  bridge.on("interceptSend", (on) => {
    controller.interceptSend = !!on;
  });
  bridge.on("messageField", (data) => messageField(view, data));
  bridge.on("hostState", (data) => controller.setHostState(data));
  window.addEventListener("focus", () => bridge.send("focus", {}));
  window.addEventListener("blur", () => bridge.send("blur", {}));
  return { view, controller };
}

function messageField(view, { op, text, visible }) {
  const composer = view.composer;
  if (op === "focus") composer.focus();
  else if (op === "setText") composer.setText(text);
  else if (op === "typeText") composer.setText(composer.getText() + text);
  else if (op === "setVisible") composer.setVisible(visible);
  else if (op === "getText") return { text: composer.getText() };
  return {};
}
