// @ts-check
/**
 * Desktop (browser) notifications, as TalkJS's session has them: the visitor's preference (per app and
 * user, in localStorage), the browser's permission, and one `Notification` per message from someone
 * else that the visitor would not see otherwise. Messages come from the session's own connection, so
 * conversations opened as a guest never notify.
 */

import { callHandlers, fail } from "./errors.js";
import { sdkMessage } from "./message.js";

export const BLOCKED_ALERT =
  "Desktop notifications are blocked for this site. Allow them in your browser's site settings to get notified of new messages.";
export const UNSUPPORTED_ALERT = "This browser cannot show desktop notifications, so you will not be notified of new messages.";
const BODY_LENGTH = 120;
const PERMISSION = { type: "notifications" };

export class DesktopNotifications {
  /** @param {any} session */
  constructor(session) {
    this.session = session;
    /** @type {Record<"clicked" | "needed" | "denied", Set<Function>>} */
    this.handlers = { clicked: new Set(), needed: new Set(), denied: new Set() };
    /** @type {boolean} the preference where localStorage is blocked */ this.fallback = false;
    /** @type {Promise<void>} notifications are shown in the order their messages came */
    this.queue = Promise.resolve();
  }

  /** The preference is on and the browser allows notifications. */
  isActive() {
    return this.wanted() && browserPermission() === "granted";
  }

  /** @param {unknown} enabled @param {unknown} options */
  async setEnabled(enabled, options = {}) {
    if (typeof enabled !== "boolean") throw fail("INVALID_ARGUMENT", "setDesktopNotificationEnabled takes true or false");
    if (!options || typeof options !== "object") {
      throw fail("INVALID_ARGUMENT", "setDesktopNotificationEnabled options must be an object like {alertOnFailure: false}");
    }
    const alertOnFailure = /** @type {any} */ (options).alertOnFailure !== false;
    if (!enabled) return this.remember(false);
    const outcome = await this.askPermission();
    if (outcome !== "granted" && outcome !== "prevented") throw this.refused(outcome, alertOnFailure);
    this.remember(true); // prevented: kept, and in effect once the permission is granted
    if (outcome === "granted") this.session.realtime();
  }

  /** @returns {Promise<string>} "granted", "denied", "default" (prompt dismissed), "unsupported" or "prevented" */
  async askPermission() {
    const permission = browserPermission();
    if (permission !== "default") return permission;
    let prevented = false;
    const event = { ...PERMISSION, preventDefault: () => void (prevented = true) };
    callHandlers(this.handlers.needed, event, "an onBrowserPermissionNeeded");
    return prevented ? "prevented" : requestPermission();
  }

  /** Tell the page (and, with alertOnFailure, the visitor) why notifications stay off. */
  refused(outcome, alertOnFailure) {
    if (outcome === "unsupported") {
      if (alertOnFailure) window.alert(UNSUPPORTED_ALERT);
      return fail("NOTIFICATIONS_UNSUPPORTED", "this browser has no desktop notifications (the Notification API needs HTTPS)");
    }
    if (outcome === "default") return fail("NOTIFICATIONS_DENIED", "the visitor closed the permission prompt without allowing notifications");
    callHandlers(this.handlers.denied, { ...PERMISSION }, "an onBrowserPermissionDenied");
    if (alertOnFailure) window.alert(BLOCKED_ALERT);
    return fail("NOTIFICATIONS_DENIED", "the browser blocks desktop notifications for this site");
  }

  /** `kind` handlers, with `{unsubscribe()}`. @param {"clicked" | "needed" | "denied"} kind */
  on(kind, handler, what) {
    if (typeof handler !== "function") throw fail("INVALID_ARGUMENT", `${what} takes a function`);
    this.handlers[kind].add(handler);
    return { unsubscribe: () => void this.handlers[kind].delete(handler) };
  }

  /** A new message on the session's connection (`message:new`). */
  consider({ message, sender }) {
    if (!this.isActive()) return;
    const id = message.conversationId;
    const shown = [...this.session.uis].some((ui) => ui.showsConversation(id));
    const page = { visible: document.visibilityState === "visible", focused: document.hasFocus(), shown };
    if (!shouldNotify(message, this.session.me.id, page)) return;
    this.queue = this.queue.then(() => this.show(message, sender)).catch((error) => {
      console.error("[Parley] NOTIFICATION_FAILED: could not show a desktop notification:", error);
    });
  }

  async show(message, sender) {
    const id = message.conversationId;
    const conversation = await this.session.connection?.conversation(id);
    const subject = conversation ? conversation.subject : this.session.conversations.get(id)?.subject;
    /** @type {NotificationOptions} */ const options = { body: preview(message), tag: id };
    if (sender && sender.photoUrl) options.icon = sender.photoUrl;
    const notification = new Notification(notificationTitle(sender && sender.name, subject), options);
    notification.onclick = () => {
      window.focus();
      notification.close();
      const event = { conversation: { id }, message: sdkMessage(message, sender, this.session.me.id) };
      callHandlers(this.handlers.clicked, event, "an onDesktopNotificationClicked");
    };
  }

  storageKey() {
    return `parley:desktopNotifications:${this.session.appId}:${this.session.me.id}`;
  }

  wanted() {
    try {
      return window.localStorage.getItem(this.storageKey()) === "on";
    } catch {
      return this.fallback; // storage blocked: the preference lasts as long as the page
    }
  }

  /** @param {boolean} on */
  remember(on) {
    this.fallback = on;
    try {
      window.localStorage.setItem(this.storageKey(), on ? "on" : "off");
    } catch {
      /* storage blocked: kept in memory only */
    }
  }
}

/**
 * Whether a new message deserves a notification: a UserMessage from someone else that the visitor
 * cannot see right now (the page is hidden or unfocused, or no UI of the session shows its conversation).
 * @param {Record<string, any>} message @param {string} myId
 * @param {{visible: boolean, focused: boolean, shown: boolean}} page
 */
export function shouldNotify(message, myId, page) {
  if (message.type !== "UserMessage" || message.senderId === myId) return false;
  return !page.visible || !page.focused || !page.shown;
}

/** "Alice", or "Alice in Subject" when the conversation has a subject. */
export function notificationTitle(senderName, subject) {
  const name = senderName || "New message";
  return subject ? `${name} in ${subject}` : name;
}

/** The message text, at most BODY_LENGTH characters (an ellipsis marks a cut). */
export function preview(message) {
  const text = String(message.text || "").replace(/\s+/g, " ").trim();
  if (!text) return message.attachment ? "Sent a file" : message.location ? "Shared a location" : "";
  const chars = [...text];
  return chars.length <= BODY_LENGTH ? text : `${chars.slice(0, BODY_LENGTH - 1).join("").trimEnd()}…`;
}

/** "granted", "denied", "default", or "unsupported" where the page has no Notification API. */
function browserPermission() {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

/** Notification.requestPermission, also where it still takes a callback (older Safari). */
function requestPermission() {
  return new Promise((resolve) => {
    const answer = Notification.requestPermission(resolve);
    if (answer && typeof answer.then === "function") answer.then(resolve, () => resolve("denied"));
  });
}
