// @ts-check
/** What visitors are told when the server refuses something: plain words, no codes or settings. */

/** @param {{code?: string, message?: string, retryAfter?: number}} error */
export function visitorText(error) {
  const wait = error.retryAfter ? ` Trying again in ${error.retryAfter} s.` : "";
  switch (error.code) {
    case "RATE_LIMITED":
      return `You're going a little fast for this chat.${wait}`;
    default:
      return null;
  }
}
