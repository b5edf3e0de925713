// @ts-check
/** The Inbox feed: the visitor's conversations, newest activity first, with unread counts. */

import { matches } from "/widget/shared/predicate.js";
import { avatar, el, safeImageUrl, timeOfDay } from "./format.js";

export class FeedView {
  /** @param {(conversation: any) => void} onChoose */
  constructor(onChoose) {
    this.onChoose = onChoose;
    this.title = el("h1", { class: "feed__title" }, "Conversations");
    this.list = el("ul", { class: "feed__list", role: "list" });
    this.empty = el("p", { class: "feed__empty" }, "No conversations yet.");
    this.element = el("nav", { class: "feed", "aria-label": "Conversations" }, this.title, this.list, this.empty);
    /** @type {any[]} */ this.conversations = [];
    /** @type {Record<string, any>} */ this.users = {};
    /** @type {any} */ this.filter = null;
    this.selectedId = null;
    this.myId = "";
  }

  showHeader(show) {
    this.title.hidden = !show;
  }

  setFeed({ conversations, users }, myId) {
    this.conversations = conversations;
    this.users = { ...this.users, ...users };
    this.myId = myId;
    this.render();
  }

  setFilter(filter) {
    this.filter = filter;
    this.render();
  }

  select(conversationId) {
    this.selectedId = conversationId;
    this.render();
  }

  render() {
    const shown = this.conversations.filter((c) => !this.filter || matches(this.filter, c));
    this.list.replaceChildren(...shown.map((c) => this.item(c)));
    this.empty.hidden = shown.length > 0;
  }

  item(conversation) {
    const others = Object.keys(conversation.participants).filter((id) => id !== this.myId).map((id) => this.users[id] || { id, name: id });
    const title = conversation.subject || others.map((u) => u.name).join(", ") || "Conversation";
    const last = conversation.lastMessage;
    const preview = last ? `${last.senderId === this.myId ? "You: " : ""}${last.text}` : "";
    const unread = conversation.unreadMessageCount;
    const photo = safeImageUrl(conversation.photoUrl);
    const picture = photo ? el("img", { class: "avatar", src: photo, alt: "", referrerpolicy: "no-referrer" }) : avatar(others[0] || { name: title });
    const button = el(
      "button",
      { type: "button", class: "feed__item", "data-conversation-id": conversation.id, "aria-current": conversation.id === this.selectedId ? "true" : null },
      picture,
      el("span", { class: "feed__text" }, el("span", { class: "feed__name" }, title), el("span", { class: "feed__preview" }, preview)),
      el("span", { class: "feed__side" },
        last ? el("time", { class: "feed__time", datetime: new Date(last.createdAt).toISOString() }, timeOfDay(last.createdAt)) : null,
        unread ? el("span", { class: "feed__unread", "aria-label": `${unread} unread` }, String(unread)) : null)
    );
    button.addEventListener("click", () => this.onChoose(conversation));
    return el("li", {}, button);
  }
}
