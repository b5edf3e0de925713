// @ts-check
/** What visitors are told when the server refuses something: plain words, no codes or settings. */

/** @param {{code?: string, message?: string, retryAfter?: number}} error */
export function visitorText(error) {
  const wait = error.retryAfter ? ` Trying again in ${error.retryAfter} s.` : "";
  switch (error.code) {
    case "RATE_LIMITED":
      return `You're going a little fast for this chat.${wait}`;
    case "TEMPORARILY_UNAVAILABLE":
      return `The chat can't let you in right this moment.${wait || " Trying again shortly."}`;
    default:
      return null;
  }
}
