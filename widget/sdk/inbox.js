// @ts-check
/** `session.createInbox()`: the visitor's conversations beside the selected one. Never takes guests. */

import { checkPredicate } from "/widget/shared/predicate.js";
import { CHAT_OPTIONS, checkOptions } from "./chatbox.js";
import { fail } from "./errors.js";
import { UIBox } from "./ui.js";

const OPTIONS = {
  ...CHAT_OPTIONS,
  selected: "any",
  showFeedHeader: "boolean",
  feedFilter: "any",
  feedConversationTitleMode: "string",
  showMobileBackButton: "boolean",
};
export const GUEST_NOT_ALLOWED_IN_INBOX =
  "The Inbox cannot show a conversation in guest mode (asGuest): use a Chatbox or a Popup for guest access";

export class Inbox extends UIBox {
  constructor(session, options = {}) {
    const checked = checkOptions(options, OPTIONS, "createInbox");
    if (checked.feedFilter !== undefined && checked.feedFilter !== null) checked.feedFilter = filter(checked.feedFilter);
    const { selected, ...rest } = checked;
    super(session, "inbox", rest);
    if (selected !== undefined && selected !== null) this.select(selected).catch(() => {}); // reported at mount
  }

  select(conversation, options = {}) {
    if (options && options.asGuest) {
      const error = fail("GUEST_NOT_ALLOWED_IN_INBOX", GUEST_NOT_ALLOWED_IN_INBOX);
      this.bridge?.send("notice", { code: error.code, message: error.message });
      return Promise.reject(error);
    }
    return super.select(conversation, options);
  }

  /** Filter the feed with a TalkJS conversation predicate (null shows everything). */
  setFeedFilter(predicate) {
    this.options.feedFilter = predicate === null ? null : filter(predicate);
    this.bridge?.send("feedFilter", { filter: this.options.feedFilter });
  }

  listen(bridge) {
    super.listen(bridge);
    bridge.on("selectConversation", (data, requestId) => bridge.send("reply", this.selectDecision(data), requestId));
    bridge.on("conversationSelected", ({ conversation }) => {
      this.currentConversation = this.session.getOrCreateConversation(conversation.id);
      this.emit("conversationSelected", { conversation, me: this.session.me });
    });
  }

  /** A click in the feed: onSelectConversation handlers may cancel it with preventDefault(). */
  selectDecision({ conversation }) {
    const decision = { cancel: false };
    this.emit("selectConversation", {
      conversation,
      me: this.session.me,
      preventDefault() {
        decision.cancel = true;
      },
    });
    return decision;
  }

  onSelectConversation(handler) {
    return this.on("selectConversation", handler);
  }

  onConversationSelected(handler) {
    return this.on("conversationSelected", handler);
  }
}

function filter(predicate) {
  try {
    return checkPredicate(predicate);
  } catch (error) {
    throw fail("INVALID_ARGUMENT", String(/** @type {Error} */ (error).message));
  }
}
