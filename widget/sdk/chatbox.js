// @ts-check
/** `session.createChatbox()`: one conversation in a box the page places. */

import { fail } from "./errors.js";
import { UIBox } from "./ui.js";

/** Options every chat UI takes (the Popup and the Inbox add their own). */
export const CHAT_OPTIONS = {
  showChatHeader: "boolean",
  messageField: "object",
  theme: "any",
  dir: "string",
  presence: "any",
  messageFilter: "any",
};
const OPTIONS = { ...CHAT_OPTIONS, chatTitleMode: "string", chatSubtitleMode: "string" };

export class Chatbox extends UIBox {
  constructor(session, options = {}) {
    super(session, "chatbox", checkOptions(options, OPTIONS, "createChatbox"));
  }
}

/** Known options are type-checked; unknown ones are reported (not silently ignored). */
export function checkOptions(options, known, what) {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") throw fail("INVALID_ARGUMENT", `${what} options must be an object`);
  const checked = {};
  for (const [key, value] of Object.entries(options)) {
    if (!(key in known)) {
      console.warn(`[Parley] ${what}: option ${JSON.stringify(key)} is not supported and has no effect`);
      continue;
    }
    if (known[key] !== "any" && value !== undefined && typeof value !== known[key]) {
      throw fail("INVALID_ARGUMENT", `${what}: option ${key} must be a ${known[key]}`);
    }
    checked[key] = value;
  }
  return checked;
}
