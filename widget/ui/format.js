// @ts-check
/**
 * Turning user content into DOM safely: everything becomes text nodes; only http(s) links become
 * anchors, built with DOM APIs (never innerHTML), opening in a new tab without an opener.
 */

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;

/** Text with links as safe anchors, as a DocumentFragment. */
export function richText(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const index = /** @type {number} */ (match.index);
    if (index > last) fragment.append(text.slice(last, index));
    fragment.append(link(match[0]));
    last = index + match[0].length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

function link(href) {
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.textContent = href;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  return anchor;
}

/** Up to two initials of a name, for avatars without a photo. */
export function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((word) => Array.from(word)[0].toUpperCase()).join("") || "?";
}

/** Photo URLs are shown only when they are http(s) or data images. */
export function safeImageUrl(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url, window.location.href);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return parsed.href;
    if (parsed.protocol === "data:" && /^data:image\//i.test(url)) return url;
  } catch {
    return null;
  }
  return null;
}

export function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function dayLabel(ms, now = Date.now()) {
  const day = startOfDay(ms);
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (day === startOfDay(now)) return "Today";
  if (day === startOfDay(yesterday.getTime())) return "Yesterday";
  return new Date(ms).toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

export function startOfDay(ms) {
  const date = new Date(ms);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/** A small helper for building elements: el("div", {class: "x"}, child, "text"). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** An avatar: the photo if there is a safe one, else initials. */
export function avatar(user) {
  const photo = safeImageUrl(user && user.photoUrl);
  const name = (user && user.name) || "?";
  const fallback = () => el("span", { class: "avatar avatar--initials", "aria-hidden": "true" }, initials(name));
  if (!photo) return fallback();
  const image = el("img", { class: "avatar", src: photo, alt: "", referrerpolicy: "no-referrer" });
  image.addEventListener("error", () => image.replaceWith(fallback()), { once: true });
  return image;
}
