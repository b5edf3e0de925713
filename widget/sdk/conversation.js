// @ts-check
/** `ConversationBuilder`: local changes to a conversation, synced when a UI opens it. */

import { fail } from "./errors.js";
import { User, checkCustom } from "./user.js";

const ACCESS = ["ReadWrite", "Read"];
const NOTIFY = [true, false, "MentionsOnly"];
const ATTRIBUTES = ["subject", "photoUrl", "custom", "welcomeMessages"];

export class ConversationBuilder {
  /** @param {string} id */
  constructor(id) {
    this.id = id;
    this.subject = undefined;
    this.photoUrl = undefined;
    this.custom = undefined;
    this.welcomeMessages = undefined;
    /** @private @type {Record<string, any>} */ this._attributes = {};
    /** @private @type {Map<string, {user: User, access?: string, notify?: boolean | string}>} */
    this._participants = new Map();
  }

  /** Make a user a participant. Idempotent; omitted settings keep their current value. */
  setParticipant(user, settings = {}) {
    if (!(user instanceof User)) {
      throw fail("INVALID_ARGUMENT", "setParticipant takes a Talk.User (new Talk.User(...))");
    }
    if (!settings || typeof settings !== "object") {
      throw fail("INVALID_ARGUMENT", "setParticipant settings must be an object like {access, notify}");
    }
    if (settings.access !== undefined && !ACCESS.includes(settings.access)) {
      throw fail("INVALID_ARGUMENT", 'access must be "ReadWrite" or "Read"');
    }
    if (settings.notify !== undefined && !NOTIFY.includes(settings.notify)) {
      throw fail("INVALID_ARGUMENT", 'notify must be true, false or "MentionsOnly"');
    }
    const entry = this._participants.get(user.id) || { user };
    entry.user = user;
    if (settings.access !== undefined) entry.access = settings.access;
    if (settings.notify !== undefined) entry.notify = settings.notify;
    this._participants.set(user.id, entry);
  }

  /** Set subject, photoUrl, custom, welcomeMessages: null clears, undefined leaves unchanged. */
  setAttributes(attributes) {
    if (!attributes || typeof attributes !== "object") {
      throw fail("INVALID_ARGUMENT", "setAttributes takes an object like {subject, photoUrl}");
    }
    for (const [key, value] of Object.entries(attributes)) {
      if (value === undefined) continue;
      if (!ATTRIBUTES.includes(key)) {
        throw fail("INVALID_ARGUMENT", `setAttributes: unknown attribute ${JSON.stringify(key)}`);
      }
      checkAttribute(key, value);
      this._attributes[key] = value;
      this[key] = value;
    }
  }

  /** Has this builder anything to send? */
  hasChanges() {
    return this._participants.size > 0 || Object.keys(this._attributes).length > 0;
  }

  /** The `conversation:sync` payload (see docs/protocol.md). */
  toSync() {
    const participants = [...this._participants.values()].map(({ user, access, notify }) => {
      const entry = { user: user.toSync() };
      if (access !== undefined) entry.access = access;
      if (notify !== undefined) entry.notify = notify;
      return entry;
    });
    return { conversationId: this.id, attributes: { ...this._attributes }, participants };
  }
}

function checkAttribute(key, value) {
  if (value === null) return;
  if ((key === "subject" || key === "photoUrl") && typeof value !== "string") {
    throw fail("INVALID_ARGUMENT", `${key} must be a string or null`);
  }
  if (key === "welcomeMessages" && !(Array.isArray(value) && value.every((m) => typeof m === "string"))) {
    throw fail("INVALID_ARGUMENT", "welcomeMessages must be an array of strings or null");
  }
  if (key === "custom") checkCustom(value, "custom");
}
