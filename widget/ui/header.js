// @ts-check
/** The chat header (photo, title, member count) and the member list it toggles. */

import { avatar, el, safeImageUrl } from "./format.js";

export class Header {
  constructor() {
    this.toggle = el("button", { type: "button", class: "header__members", "aria-expanded": "false", "aria-controls": "parley-members" }, "Members");
    this.photo = el("span", { class: "header__photo" });
    this.titleText = el("h1", { class: "header__title", id: "parley-title" }, "Chat");
    this.subtitle = el("p", { class: "header__subtitle" });
    this.close = el("button", { type: "button", class: "header__close", "aria-label": "Close chat", hidden: true }, "×");
    this.back = el("button", { type: "button", class: "header__back", "aria-label": "Back to conversations", hidden: true }, "‹");
    this.element = el("header", { class: "header" }, this.back, this.photo, el("div", { class: "header__text" }, this.titleText, this.subtitle), this.toggle, this.close);
    this.list = el("ul", { class: "members__list" });
    this.members = el("section", { class: "members", id: "parley-members", "aria-label": "Members", hidden: true }, el("h2", { class: "members__title" }, "Members"), this.list);
    this.toggle.addEventListener("click", () => this.setOpen(this.members.hidden));
  }

  showClose(show) {
    this.close.hidden = !show;
  }

  showBack(show) {
    this.back.hidden = !show;
  }

  setOpen(open) {
    this.members.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
  }

  /** @param {import("./state.js").ConversationState} state @param {string} myId */
  render(state, myId) {
    const conversation = state.conversation;
    const title = state.title(myId);
    this.titleText.textContent = title;
    const photo = safeImageUrl(conversation.photoUrl);
    this.photo.replaceChildren(photo ? el("img", { class: "avatar avatar--large", src: photo, alt: "", referrerpolicy: "no-referrer" }) : avatar({ name: title }));
    const count = state.members.size;
    this.subtitle.textContent = `${count} ${count === 1 ? "member" : "members"}${state.isGuest ? " · you are a guest" : ""}`;
    this.toggle.textContent = `Members (${count})`;
    this.list.replaceChildren(...[...state.members.values()].map((member) => memberItem(member, myId)));
  }

  clear(title = "Chat") {
    this.titleText.textContent = title;
    this.subtitle.textContent = "";
    this.photo.replaceChildren();
    this.list.replaceChildren();
  }
}

function memberItem(member, myId) {
  const label = member.id === myId ? `${member.name} (you)` : member.name;
  const access = member.access === "Read" ? el("span", { class: "members__access" }, "read only") : null;
  return el("li", { class: "members__item" }, avatar(member), el("span", { class: "members__name" }, label), access);
}
