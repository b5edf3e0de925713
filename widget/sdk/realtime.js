// @ts-check
/**
 * The Session's own connection, opened only when session-level features need it
 * (`session.unreads.onChange`, `session.onMessage`, desktop notifications): it receives events for the
 * user's participant conversations wherever they happen, never for conversations opened as a guest.
 */

import { fromServer } from "./errors.js";

const UNREADS_REFRESH_MS = 100;
const LOOKUP_TIMEOUT_MS = 2000;

export class SessionRealtime {
  /** @param {any} session */
  constructor(session) {
    this.session = session;
    this.socket = null;
    this.refreshTimer = 0;
    /** @type {Map<string, Record<string, any>>} conversation objects seen in `unreads:list` and updates */
    this.known = new Map();
    this.opening = this.open();
  }

  async open() {
    const { io } = await import(`${this.session.baseUrl}/widget/vendor/socket.io.esm.min.js`);
    await this.session.ensureToken();
    this.socket = io(this.session.baseUrl, { path: "/socket.io", transports: ["websocket"], auth: this.session.auth() });
    this.socket.on("connect", () => {
      this.retriedToken = false;
      this.refreshUnreads();
    });
    this.socket.on("connect_error", (error) => this.refused(error));
    this.socket.on("message:new", (data) => {
      this.session.dispatchMessage(data);
      this.scheduleRefresh();
    });
    for (const event of ["conversation:read", "participant:added", "participant:removed", "conversation:deleted"]) {
      this.socket.on(event, () => this.scheduleRefresh());
    }
    this.socket.on("conversation:updated", ({ conversation }) => this.known.set(conversation.id, conversation));
    this.socket.on("conversation:deleted", ({ conversationId }) => this.known.delete(conversationId));
  }

  /**
   * The conversation object (subject, photoUrl, ...) of one of the user's conversations, or null: from
   * what this connection has seen, else from a fresh `unreads:list` (a conversation with a new message
   * from someone else is in it). Never rejects; null after LOOKUP_TIMEOUT_MS.
   * @param {string} id
   */
  async conversation(id) {
    await this.opening.catch(() => {}); // a failed open is reported where it happened
    if (!this.known.has(id)) {
      clearTimeout(this.refreshTimer); // this refresh serves the scheduled one too
      const timeout = new Promise((resolve) => setTimeout(resolve, LOOKUP_TIMEOUT_MS));
      await Promise.race([this.refreshUnreads(), timeout]);
    }
    return this.known.get(id) || null;
  }

  /** An expired token is renewed once through tokenFetcher; any other refusal is reported. */
  async refused(error) {
    const code = error.data && error.data.code;
    if (code === "TOKEN_EXPIRED" && this.session.tokenFetcher && !this.retriedToken) {
      this.retriedToken = true;
      const token = await this.session.fetchToken().catch(() => null);
      if (token && this.socket) {
        this.socket.auth = this.session.auth();
        this.socket.connect();
        return;
      }
    }
    if (code) fromServer({ code, message: error.message });
  }

  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => this.refreshUnreads(), UNREADS_REFRESH_MS);
  }

  /** Resolves once the server has answered (at once without a socket). */
  refreshUnreads() {
    return new Promise((resolve) => {
      if (!this.socket) return resolve(undefined);
      this.socket.emit("unreads:list", {}, (reply) => {
        if (reply && reply.error) fromServer(reply.error);
        else this.learn(reply.unreads);
        resolve(undefined);
      });
    });
  }

  learn(unreads) {
    for (const { conversation } of unreads) this.known.set(conversation.id, conversation);
    this.session.unreads.update(unreads);
  }

  close() {
    clearTimeout(this.refreshTimer);
    this.opening.then(() => this.socket?.disconnect());
  }
}
