// @ts-check
/** Entry point of the Popup frame: a Chatbox that the page shows and hides, with a close button. */

import { ParentBridge } from "./bridge.js";
import { readConfig, startChat } from "./frame.js";

const config = readConfig();
const bridge = new ParentBridge(config.parentOrigin);
const { view, controller } = startChat(bridge, /** @type {HTMLElement} */ (document.getElementById("parley-chat")), config.kind, {
  onClose: () => bridge.send("close", {}),
});
bridge.on("init", (data) => {
  view.header.showClose(data.options.showCloseInHeader !== false);
  controller.setShown(!!data.shown);
  return controller.init(data);
});
bridge.on("shown", ({ shown }) => controller.setShown(!!shown));
bridge.send("ready", {});
