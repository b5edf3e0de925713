// @ts-check
/** The public `Talk` object: installed by /talk.js once these modules have loaded. */

import { TalkError } from "./errors.js";
import { Session } from "./session.js";
import { sha1Hex } from "./sha1.js";
import { User, userId } from "./user.js";

/** TalkJS's id for the one-on-one conversation of two users: order does not matter. */
export function oneOnOneId(a, b) {
  const ids = [idOf(a), idOf(b)].sort();
  return sha1Hex(JSON.stringify(ids)).slice(0, 20);
}

function idOf(user) {
  return user instanceof User ? user.id : userId(user, "oneOnOneId: user");
}

/** @param {Record<string, any>} Talk @param {string} baseUrl */
export function install(Talk, baseUrl) {
  Talk.User = User;
  Talk.Session = class extends Session {
    constructor(options) {
      super(options, baseUrl);
    }
  };
  Talk.oneOnOneId = oneOnOneId;
  Talk.TalkError = TalkError;
}
