// @ts-check
/** The frame's one realtime connection: Socket.IO, acknowledged requests, and its status. */

import { io } from "/widget/vendor/socket.io.esm.min.js";

const REQUEST_TIMEOUT_MS = 10_000;

export class Connection {
  /**
   * @param {Record<string, any>} auth `{appId, me, signature?}` (docs/protocol.md)
   * @param {(status: string, error?: {code: string, message: string}) => void} onStatus
   */
  constructor(auth, onStatus) {
    this.onStatus = onStatus;
    this.everConnected = false;
    /** Whom the server refused, with what, so a fresh token can be tried. */
    this.auth = auth;
    this.socket = io(window.location.origin, {
      path: "/socket.io",
      transports: ["websocket"],
      auth,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket.on("connect", () => {
      this.onStatus(this.everConnected ? "reconnected" : "connected");
      this.everConnected = true;
    });
    this.socket.on("disconnect", (reason) => {
      // The server ended this session on purpose: socket.io will not reconnect by itself.
      if (reason === "io server disconnect") this.onStatus("closed", { code: "DISCONNECTED", message: "the server closed this chat session" });
      else this.onStatus("reconnecting");
    });
    this.socket.on("connect_error", (error) => {
      const data = /** @type {any} */ (error).data;
      if (data && data.code) this.onStatus("refused", { code: data.code, message: error.message });
      else this.onStatus("reconnecting");
    });
  }

  get connected() {
    return this.socket.connected;
  }

  on(event, handler) {
    this.socket.on(event, handler);
  }

  /** Emit with an acknowledgement: resolves with the result, rejects with `{code, message}`. */
  request(event, data, timeoutMs = REQUEST_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      if (!this.socket.connected) {
        reject({ code: "OFFLINE", message: "not connected", retry: true });
        return;
      }
      this.socket.timeout(timeoutMs).emit(event, data, (timeout, reply) => {
        if (timeout) reject({ code: "TIMEOUT", message: `no answer to ${event}`, retry: true });
        else if (reply && reply.error) reject(reply.error);
        else resolve(reply);
      });
    });
  }

  /** Fire and forget (typing indicators). */
  emit(event, data) {
    if (this.socket.connected) this.socket.emit(event, data);
  }

  close() {
    this.socket.disconnect();
  }
}
