// @ts-check
/**
 * TalkJS's conversation predicates (feed filters), checked and applied. Used by the SDK to refuse a
 * bad filter at once, and by the Inbox frame to filter its feed.
 *
 *   {access: ["==", "ReadWrite"], custom: {category: ["oneOf", ["a", "b"]], topic: "exists"},
 *    hasUnreadMessages: true, subject: ["!=", null], lastMessageTs: [">", 1700000000000]}
 *   ["any", [predicate, predicate]]
 */

const EQUALITY = ["==", "!="];
const MEMBERSHIP = ["oneOf", "!oneOf"];
const NUMERIC = [">", "<", ">=", "<=", "between"];
const KEYS = {
  access: [...EQUALITY, ...MEMBERSHIP],
  subject: [...EQUALITY, ...MEMBERSHIP],
  lastMessageTs: [...EQUALITY, ...NUMERIC],
  createdAt: [...EQUALITY, ...NUMERIC],
};

/** Throws an Error naming the problem; returns the predicate when it is valid. */
export function checkPredicate(predicate, where = "feedFilter") {
  if (Array.isArray(predicate)) {
    if (predicate[0] !== "any" || !Array.isArray(predicate[1]) || predicate.length !== 2) {
      throw new Error(`${where}: an array predicate must be ["any", [predicate, ...]]`);
    }
    predicate[1].forEach((inner, i) => checkPredicate(inner, `${where}[1][${i}]`));
    return predicate;
  }
  if (!predicate || typeof predicate !== "object") throw new Error(`${where} must be an object or ["any", [...]]`);
  for (const [key, condition] of Object.entries(predicate)) {
    if (key === "custom") checkCustom(condition, `${where}.custom`);
    else if (key === "hasUnreadMessages") {
      if (typeof condition !== "boolean") throw new Error(`${where}.hasUnreadMessages must be true or false`);
    } else if (key in KEYS) checkCondition(condition, KEYS[key], `${where}.${key}`);
    else throw new Error(`${where}: unknown key ${JSON.stringify(key)} (use access, custom, hasUnreadMessages, subject, lastMessageTs, createdAt)`);
  }
  return predicate;
}

function checkCustom(custom, where) {
  if (!custom || typeof custom !== "object" || Array.isArray(custom)) throw new Error(`${where} must be an object`);
  for (const [key, condition] of Object.entries(custom)) {
    if (condition === "exists" || condition === "!exists") continue;
    checkCondition(condition, [...EQUALITY, ...MEMBERSHIP], `${where}.${key}`);
  }
}

function checkCondition(condition, operators, where) {
  if (!Array.isArray(condition) || condition.length !== 2 || !operators.includes(condition[0])) {
    throw new Error(`${where} must be [operator, value] with operator one of ${operators.join(", ")}`);
  }
  const [op, value] = condition;
  if (MEMBERSHIP.includes(op) && !Array.isArray(value)) throw new Error(`${where}: ${op} takes an array`);
  if (op === "between" && !(Array.isArray(value) && value.length === 2)) throw new Error(`${where}: between takes [low, high]`);
  if ([">", "<", ">=", "<="].includes(op) && typeof value !== "number") throw new Error(`${where}: ${op} takes a number`);
}

/** Does a feed conversation (with `access`, `custom`, `unreadMessageCount`, `subject`, ...) match? */
export function matches(predicate, conversation) {
  if (Array.isArray(predicate)) return predicate[1].some((inner) => matches(inner, conversation));
  return Object.entries(predicate).every(([key, condition]) => {
    if (key === "custom") return matchesCustom(condition, conversation.custom || {});
    if (key === "hasUnreadMessages") return (conversation.unreadMessageCount > 0) === condition;
    return holds(condition, valueOf(key, conversation));
  });
}

function valueOf(key, conversation) {
  if (key === "lastMessageTs") return conversation.lastMessage ? conversation.lastMessage.createdAt : null;
  return conversation[key] === undefined ? null : conversation[key];
}

function matchesCustom(conditions, custom) {
  return Object.entries(conditions).every(([key, condition]) => {
    const present = Object.prototype.hasOwnProperty.call(custom, key);
    if (condition === "exists") return present;
    if (condition === "!exists") return !present;
    return holds(condition, present ? custom[key] : null);
  });
}

function holds([op, expected], actual) {
  switch (op) {
    case "==": return actual === expected;
    case "!=": return actual !== expected;
    case "oneOf": return expected.includes(actual);
    case "!oneOf": return !expected.includes(actual);
    case ">": return actual !== null && actual > expected;
    case "<": return actual !== null && actual < expected;
    case ">=": return actual !== null && actual >= expected;
    case "<=": return actual !== null && actual <= expected;
    case "between": return actual !== null && actual >= expected[0] && actual <= expected[1];
    default: return false;
  }
}
