// @ts-check
/** The message log: day separators, welcome messages, own messages set apart, pending sends. */

import { avatar, dayLabel, el, richText, startOfDay, timeOfDay } from "./format.js";

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 60;

export class MessageList {
  /** @param {() => void} onNearTop called when the reader scrolls up to the oldest loaded message */
  constructor(onNearTop) {
    this.element = el("div", { class: "messages", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
    this.element.addEventListener("scroll", () => {
      if (this.element.scrollTop < NEAR_TOP_PX) onNearTop();
    });
  }

  /**
   * @param {import("./state.js").ConversationState} state
   * @param {string} myId
   * @param {any[]} pending messages not yet acknowledged by the server
   * @param {{older?: boolean}} how `older` keeps the view where it was while history grows above
   */
  render(state, myId, pending, how = {}) {
    const box = this.element;
    const fromBottom = box.scrollHeight - box.scrollTop - box.clientHeight;
    const children = [];
    if (!state.hasOlder) children.push(...welcome(state));
    let lastDay = null;
    for (const message of state.messages) {
      const day = startOfDay(message.createdAt);
      if (day !== lastDay) children.push(separator(message.createdAt));
      lastDay = day;
      children.push(messageRow(message, state.sender(message), message.senderId === myId));
    }
    for (const item of pending) children.push(pendingRow(item));
    if (state.messages.length === 0 && pending.length === 0 && state.hasOlder === false && !children.length) {
      children.push(el("p", { class: "messages__empty" }, "No messages yet. Say hello!"));
    }
    box.replaceChildren(...children);
    if (how.older) box.scrollTop = box.scrollHeight - box.clientHeight - fromBottom;
    else if (fromBottom < NEAR_BOTTOM_PX || how.older === false) box.scrollTop = box.scrollHeight;
  }

  clear(text) {
    this.element.replaceChildren(el("p", { class: "messages__empty" }, text));
  }
}

function welcome(state) {
  const texts = state.conversation.welcomeMessages || [];
  return texts.map((text) => el("div", { class: "message message--welcome" }, el("p", { class: "message__text" }, richText(text))));
}

function separator(ms) {
  return el("div", { class: "day", role: "separator" }, el("span", {}, dayLabel(ms)));
}

function messageRow(message, sender, mine) {
  if (message.type === "SystemMessage") {
    return el("div", { class: "message message--system", "data-message-id": message.id }, el("p", { class: "message__text" }, richText(message.text)));
  }
  const name = sender ? sender.name : "Someone";
  const time = el("time", { class: "message__time", datetime: new Date(message.createdAt).toISOString() }, timeOfDay(message.createdAt));
  const edited = message.editedAt ? el("span", { class: "message__edited" }, "(edited)") : null;
  const status = mine ? el("span", { class: "message__status" }, message.readBy.length ? "Read" : "Sent") : null;
  return el(
    "article",
    { class: `message ${mine ? "message--mine" : "message--theirs"}`, "data-message-id": message.id, "aria-label": `${mine ? "You" : name} at ${timeOfDay(message.createdAt)}` },
    mine ? null : avatar(sender || { name }),
    el(
      "div",
      { class: "message__bubble" },
      mine ? null : el("p", { class: "message__sender" }, name),
      el("p", { class: "message__text" }, richText(message.text)),
      el("p", { class: "message__meta" }, time, edited, status)
    )
  );
}

function pendingRow(item) {
  const status = item.error ? `Not sent: ${item.error.message}` : "Sending…";
  return el(
    "article",
    { class: `message message--mine message--pending${item.error ? " message--failed" : ""}`, "data-pending-key": item.idempotencyKey },
    el("div", { class: "message__bubble" }, el("p", { class: "message__text" }, richText(item.text)), el("p", { class: "message__meta", role: item.error ? "alert" : null }, status))
  );
}
