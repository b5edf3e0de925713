// @ts-check
/** Entry point of the Chatbox frame. */

import { ParentBridge } from "./bridge.js";
import { readConfig, startChat } from "./frame.js";

const config = readConfig();
const bridge = new ParentBridge(config.parentOrigin);
const { controller } = startChat(bridge, /** @type {HTMLElement} */ (document.getElementById("parley-chat")), config.kind);
bridge.on("init", (data) => controller.init(data));
bridge.send("ready", {});
