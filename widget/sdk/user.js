// @ts-check
/** `Talk.User`: a user's data as the page knows it, or a reference to an existing user by id. */

import { fail } from "./errors.js";

const TEXT_FIELDS = ["name", "photoUrl", "welcomeMessage", "role", "locale", "availabilityText"];
const LIST_FIELDS = ["email", "phone"];

/** A user id as TalkJS accepts it: a non-empty string, or a number. */
export function userId(value, what = "user id") {
  if ((typeof value !== "string" && typeof value !== "number") || value === "") {
    throw fail("INVALID_ARGUMENT", `${what} must be a non-empty string or a number, got ${JSON.stringify(value)}`);
  }
  return String(value);
}

export class User {
  /** @param {string | number | Record<string, any>} options */
  constructor(options) {
    if (typeof options === "string" || typeof options === "number") {
      this.id = userId(options);
      /** @private */ this._byId = true;
      return;
    }
    if (!options || typeof options !== "object") {
      throw fail("INVALID_ARGUMENT", "new Talk.User() takes a user id or an object with id and name");
    }
    this.id = userId(options.id, "Talk.User id");
    this._byId = false;
    for (const field of [...TEXT_FIELDS, ...LIST_FIELDS, "custom"]) {
      if (options[field] !== undefined) this[field] = checkField(field, options[field]);
    }
  }

  /** What the server syncs: the id alone for `new Talk.User(id)`, else every field set (null clears). */
  toSync() {
    if (this._byId) return this.id;
    const data = { id: this.id };
    for (const field of [...TEXT_FIELDS, ...LIST_FIELDS, "custom"]) {
      if (this[field] !== undefined) data[field] = this[field];
    }
    return data;
  }
}

function checkField(field, value) {
  if (value === null) return null;
  if (TEXT_FIELDS.includes(field) && typeof value !== "string") {
    throw fail("INVALID_ARGUMENT", `Talk.User ${field} must be a string or null`);
  }
  if (LIST_FIELDS.includes(field) && typeof value !== "string" && !isStringList(value)) {
    throw fail("INVALID_ARGUMENT", `Talk.User ${field} must be a string, an array of strings or null`);
  }
  if (field === "custom") return checkCustom(value, "Talk.User custom");
  return value;
}

function isStringList(value) {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** `custom` maps keys to strings (or null, which deletes the key). */
export function checkCustom(value, what) {
  if (typeof value !== "object" || Array.isArray(value)) {
    throw fail("INVALID_ARGUMENT", `${what} must be an object of strings`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && typeof item !== "string") {
      throw fail("INVALID_ARGUMENT", `${what}.${key} must be a string or null`);
    }
  }
  return value;
}
