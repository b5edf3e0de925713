// @ts-check
/** Entry point of the Chatbox frame: wires the page bridge, the view and the controller. */

import { ParentBridge } from "./bridge.js";
import { ChatController } from "./controller.js";
import { ChatView } from "./view.js";

const config = JSON.parse(/** @type {HTMLElement} */ (document.getElementById("parley-config")).textContent || "{}");
const bridge = new ParentBridge(config.parentOrigin);
/** @type {ChatController} */
let controller;
const view = new ChatView(/** @type {HTMLElement} */ (document.getElementById("parley-chat")), config.kind, {
  onSend: (text) => controller.send(text),
  onTyping: (isTyping) => controller.typing(isTyping),
  onNearTop: () => controller.loadOlder(),
});
controller = new ChatController(bridge, view);

bridge.on("init", (data) => controller.init(data));
bridge.on("select", (selection) => controller.select(selection));
bridge.on("interceptSend", (on) => {
  controller.interceptSend = !!on;
});
bridge.on("messageField", (data) => messageField(data));

function messageField({ op, text, visible }) {
  const composer = view.composer;
  if (op === "focus") composer.focus();
  else if (op === "setText") composer.setText(text);
  else if (op === "typeText") composer.setText(composer.getText() + text);
  else if (op === "setVisible") composer.setVisible(visible);
  else if (op === "getText") return { text: composer.getText() };
  return {};
}

window.addEventListener("focus", () => bridge.send("focus", {}));
window.addEventListener("blur", () => bridge.send("blur", {}));
bridge.send("ready", {});
