// @ts-check
/** Errors with a code and a message; every one is also logged, so nothing fails silently. */

export class TalkError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = "TalkError";
    this.code = code;
  }
}

/** Build an error and log it with console.error. Callers throw it or reject with it. */
export function fail(code, message) {
  const error = new TalkError(code, message);
  console.error(`[Parley] ${code}: ${message}`);
  return error;
}

/** An error reported by the server (`{code, message}`), as a logged TalkError. */
export function fromServer(error) {
  return fail(error.code || "SERVER_ERROR", error.message || "the server refused the request");
}

/** Call every handler with `value`; one that throws is logged and does not stop the others. */
export function callHandlers(handlers, value, what) {
  for (const handler of [...handlers]) {
    try {
      handler(value);
    } catch (error) {
      console.error(`[Parley] ${what} handler threw:`, error);
    }
  }
}
