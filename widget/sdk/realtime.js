// @ts-check
/**
 * The Session's own connection, opened only when session-level features need it
 * (`session.unreads.onChange`, `session.onMessage`): it receives events for the user's participant
 * conversations wherever they happen, never for conversations opened as a guest.
 */

import { fromServer } from "./errors.js";

const UNREADS_REFRESH_MS = 100;

export class SessionRealtime {
  /** @param {any} session */
  constructor(session) {
    this.session = session;
    this.socket = null;
    this.refreshTimer = 0;
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

  refreshUnreads() {
    this.socket?.emit("unreads:list", {}, (reply) => {
      if (reply && reply.error) fromServer(reply.error);
      else this.session.unreads.update(reply.unreads);
    });
  }

  close() {
    clearTimeout(this.refreshTimer);
    this.opening.then(() => this.socket?.disconnect());
  }
}
