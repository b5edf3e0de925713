"""A lean Engine.IO v4 server for native websockets: python-socketio's engine (its `eio`).

python-engineio keeps, per socket, a queue and three tasks (a writer, a wait task per packet
read, a ping timer) and writes through the ASGI server beside Parley's fan-out
(docs/performance.md). Here a socket is one small object served by the ASGI task uvicorn already
runs for its connection: that task reads, every frame to the client leaves through the socket's
one ordered `Writer` (writer.py), and one shared `Heartbeat` pings the sockets that are due.

Only the websocket transport is served (the widget and the benchmark connect with
`transports: ["websocket"]`): no long-polling, so no upgrades and no sticky sessions. Inbound,
each message is bounded in size (uvicorn's `ws_max_size` refuses bigger frames before they are
buffered), binary frames are refused, a socket's packets are paced by a token bucket (a flood
waits, TCP pushes back, nothing is dropped) and only so many of its events run at once.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import dataclasses
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

import orjson
from websockets.frames import Frame, Opcode

from server.realtime import _internals
from server.realtime.heartbeat import Heartbeat
from server.realtime.writer import AsgiWriter, Backlog, DirectWriter, spawn

log = logging.getLogger(__name__)


class Reason:
    """Disconnection reasons, as python-socketio names them."""

    SERVER_DISCONNECT = "server disconnect"
    CLIENT_DISCONNECT = "client disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    max_message_bytes: int = 256_000  # one Engine.IO message from a client
    backlog_per_socket: int = 256 * 1024  # unsent bytes a socket may have when the next frame comes
    backlog_total: int = 256 * 1024 * 1024  # unsent bytes of all sockets together
    packets_per_second: float = 50.0  # a socket's sustained inbound packets...
    packet_burst: int = 200  # ...and how many may come at once
    events_in_flight: int = 16  # events of one socket handled at the same time
    connections_per_address: int = 1_000  # open connections from one client address
    client_address: Callable[[dict[str, Any]], str] = lambda scope: (scope.get("client") or ("unknown",))[0]


def wire(texts: list[str]) -> bytes:
    """The websocket text frames of Engine.IO packets, as the server sends them (unmasked)."""
    return b"".join(Frame(Opcode.TEXT, text.encode()).serialize(mask=False) for text in texts)


# Session ids must be unique, not secret: with websockets only, no request is ever authorized by its
# sid (there is no long-polling). A seeded PRNG makes them without a system call each.
_ids = random.Random(secrets.randbits(128))
PING_TEXTS = ["2"]
PING_WIRE = wire(PING_TEXTS)


class EngineSocket:
    __slots__ = ("sid", "address", "writer", "alive", "bucket", "tokens", "paced_at", "in_flight", "waiter",
                 "session", "opened_at", "reason", "__weakref__")

    def __init__(self, sid: str, address: str, writer: DirectWriter | AsgiWriter, now: float, burst: int) -> None:
        self.sid, self.address, self.writer = sid, address, writer
        self.alive = True  # heard from since the last ping
        self.bucket = 0
        self.tokens, self.paced_at = float(burst), now
        self.in_flight = 0
        self.waiter: asyncio.Future | None = None
        self.session: dict | None = None
        self.opened_at = now
        self.reason: str | None = None  # why the server ended it, if it did


class EngineServer:
    async_mode = "asgi"
    reason = Reason

    def __init__(self, engine: EngineOptions | None = None, json: Any = None, async_handlers: bool = False,
                 logger: Any = False) -> None:
        self.options = engine or EngineOptions()
        self.handlers: dict[str, Callable] = {}
        self.sockets: dict[str, EngineSocket] = {}
        self.addresses: collections.Counter[str] = collections.Counter()
        self.backlog = Backlog(self.options.backlog_per_socket, self.options.backlog_total, self._overflow)
        self.heartbeat = Heartbeat(self.options.ping_interval, self._ping_due, self._tick)
        self.is_attached: Callable[[str], bool] = lambda sid: True  # set by SocketServer
        self.stats = collections.Counter()  # direct / asgi connections opened, drops by cause
        self._open_packet = "0"

    # --- what python-socketio calls --------------------------------------------------------
    def on(self, event: str, handler: Callable | None = None):
        if handler is None:
            return lambda h: self.on(event, h)
        self.handlers[event] = handler
        return handler

    def generate_id(self) -> str:
        return base64.urlsafe_b64encode(_ids.getrandbits(120).to_bytes(15, "big")).decode()

    def transport(self, sid: str) -> str:
        return "websocket"

    def create_event(self, *args: Any, **kwargs: Any) -> asyncio.Event:
        return asyncio.Event(*args, **kwargs)

    def create_queue(self, *args: Any, **kwargs: Any) -> asyncio.Queue:
        return asyncio.Queue(*args, **kwargs)

    async def get_session(self, sid: str) -> dict:
        socket = self.sockets[sid]
        if socket.session is None:
            socket.session = {}
        return socket.session

    def start_background_task(self, target: Callable, *args: Any, **kwargs: Any) -> asyncio.Task:
        return spawn(target(*args, **kwargs))

    async def sleep(self, seconds: float = 0) -> None:
        await asyncio.sleep(seconds)

    async def send(self, sid: str, data: str) -> None:
        """An Engine.IO message (a Socket.IO packet) to one socket."""
        self.write(sid, ["4" + data])

    async def send_packet(self, sid: str, pkt: Any) -> None:
        self.write(sid, [pkt.encode()])

    async def disconnect(self, sid: str | None = None, code: int = 1000, why: str = "the server closed the connection") -> None:
        """Close one socket, or (no sid) every socket."""
        if sid is None:
            sockets = list(self.sockets.values())
        else:
            sockets = [self.sockets[sid]] if sid in self.sockets else []
        for socket in sockets:
            await self.close(socket, code, why, Reason.SERVER_DISCONNECT)

    async def ask_to_reconnect(self, why: str) -> None:
        """Close every socket with 1012 (service restart): clients reconnect on their own and catch up."""
        log.warning("asking %d connections to reconnect: %s", len(self.sockets), why)
        await self.disconnect(code=1012, why=why)

    async def shutdown(self) -> None:
        self.heartbeat.stop()
        await self.disconnect()

    # --- writing ---------------------------------------------------------------------------
    def write(self, sid: str, texts: list[str], frames: bytes | None = None) -> bool:
        """Engine.IO packets to one socket, in order with everything else it is sent."""
        socket = self.sockets.get(sid)
        if socket is None:
            return False
        return socket.writer.write(frames if frames is not None else wire(texts), texts)

    def _overflow(self, writer: Any, pending: int, why: str) -> None:
        socket = self.sockets.get(writer.sid)
        self.stats["dropped_slow"] += 1
        address = socket.address if socket else "?"
        log.warning("dropping a slow connection %s (%s): %d bytes not yet sent, %s", writer.sid, address, pending, why)
        if socket is not None:
            socket.reason = Reason.TRANSPORT_ERROR
        writer.abort()

    async def close(self, socket: EngineSocket, code: int, why: str, reason: str) -> None:
        socket.reason = reason
        await socket.writer.close(code, why[:120])

    def drop(self, socket: EngineSocket, why: str, code: int = 1008, reason: str = Reason.SERVER_DISCONNECT,
             level: int = logging.WARNING) -> None:
        """End a socket that broke a rule: logged with the reason, no traceback."""
        self.stats["dropped_" + reason.replace(" ", "_")] += 1
        log.log(level, "closing connection %s (%s): %s", socket.sid, socket.address, why)
        spawn(self.close(socket, code, why, reason))

    # --- the heartbeat ---------------------------------------------------------------------
    def _ping_due(self, socket: EngineSocket) -> None:
        if not socket.alive:
            # A visitor whose network went away: ordinary, so not a warning.
            self.drop(socket, "no answer to the last ping", 1011, Reason.PING_TIMEOUT, logging.INFO)
        elif not self.is_attached(socket.sid):
            self.drop(socket, "no Socket.IO connection was made in time", 1008)
        else:
            socket.alive = False
            socket.writer.write(PING_WIRE, PING_TEXTS)

    def _tick(self, now: float) -> None:
        self.backlog.enforce_total(now, force=True)

    # --- serving a connection --------------------------------------------------------------
    async def handle_request(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "websocket":
            return await _http_refusal(send, 400, {"code": 0, "message": "Transport unknown: Parley serves websockets only"})
        if (await receive())["type"] != "websocket.connect":
            return None
        refusal = self._refusal(scope)
        if refusal is not None:
            return await _websocket_refusal(scope, send, *refusal)
        address = self.options.client_address(scope)
        self.addresses[address] += 1
        try:
            await self._serve(scope, receive, send, address)
        finally:
            self.addresses[address] -= 1
            if not self.addresses[address]:
                del self.addresses[address]

    def _refusal(self, scope: dict) -> tuple[int, dict] | None:
        query = _query(scope.get("query_string", b""))
        if query.get("EIO") != "4":
            return 400, {"code": 5, "message": "Unsupported protocol version: Parley speaks Engine.IO 4 (socket.io-client 3 or 4)"}
        if query.get("transport") != "websocket" or "sid" in query:
            return 400, {"code": 0, "message": "Transport unknown: connect with transports: ['websocket']"}
        address = self.options.client_address(scope)
        if self.addresses[address] >= self.options.connections_per_address:
            self.stats["refused_address"] += 1
            if self.stats["refused_address"] % 100 == 1:
                log.warning("refusing connections from %s: it holds %d, the most allowed (PARLEY_CONNECTIONS_PER_ADDRESS)",
                            address, self.addresses[address])
            return 429, {"code": "TOO_MANY_CONNECTIONS",
                         "message": "too many open connections from this address; close some and try again"}
        return None

    async def _serve(self, scope: dict, receive: Callable, send: Callable, address: str) -> None:
        await send({"type": "websocket.accept"})
        environ = _environ(scope, address)
        scope["headers"] = []  # read into `environ`; not kept for the connection's lifetime
        _internals.release_handshake(send)
        transport = _internals.transport_of(send)
        sid = self.generate_id()
        writer = DirectWriter(sid, transport, send, self.backlog) if transport else AsgiWriter(sid, send, self.backlog)
        self.stats[f"opened_{writer.kind}"] += 1
        loop = asyncio.get_running_loop()
        socket = EngineSocket(sid, address, writer, loop.time(), self.options.packet_burst)
        self.sockets[socket.sid] = socket
        self.heartbeat.add(socket)
        reason = Reason.TRANSPORT_CLOSE
        try:
            socket.writer.write(*self._open(socket))
            await self.handlers["connect"](socket.sid, environ)
            reason = await self._read(socket, receive)
        finally:
            self.heartbeat.remove(socket)
            self.backlog.waiting.discard(writer)
            del self.sockets[socket.sid]
            if socket.waiter is not None and not socket.waiter.done():
                socket.waiter.cancel()
            await self.handlers["disconnect"](socket.sid, socket.reason or reason)
            if not writer.closed:
                await writer.close(1000, "")

    def _open(self, socket: EngineSocket) -> tuple[bytes, list[str]]:
        handshake = {"sid": socket.sid, "upgrades": [], "pingInterval": int(self.options.ping_interval * 1000),
                     "pingTimeout": int(self.options.ping_timeout * 1000), "maxPayload": self.options.max_message_bytes}
        texts = ["0" + orjson.dumps(handshake).decode()]
        return wire(texts), texts

    async def _read(self, socket: EngineSocket, receive: Callable) -> str:
        """Read until the connection ends; returns why it ended."""
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                return socket.reason or Reason.TRANSPORT_CLOSE
            text = event.get("text")
            if text is None:
                return await self._violation(socket, "sent a binary frame; Parley takes text frames only", 1003)
            if len(text) > self.options.max_message_bytes:
                return await self._violation(socket, f"sent a message over {self.options.max_message_bytes} bytes", 1009)
            socket.alive = True
            await self._pace(socket)
            if socket.writer.gone:
                # The peer left, the server closed it, or uvicorn is shutting down: packets still queued
                # behind a flood would otherwise be read at the paced rate long after anyone can be answered.
                return socket.reason or Reason.TRANSPORT_CLOSE
            kind = text[:1]
            if kind == "4":
                try:
                    await self.handlers["message"](socket.sid, text[1:])
                except _internals.ProtocolError as error:
                    return await self._violation(socket, f"broke the protocol: {error}", 1008)
            elif kind == "2":  # Engine.IO 3 clients pinged the server; answer in case one does
                socket.writer.write(*_texts_and_wire(["3" + text[1:]]))
            elif kind == "1":
                return Reason.CLIENT_DISCONNECT
            elif kind not in ("3", "6"):  # pong, noop
                return await self._violation(socket, f"sent an unknown Engine.IO packet type {kind!r}", 1008)

    async def _violation(self, socket: EngineSocket, why: str, code: int) -> str:
        self.stats["protocol_violations"] += 1
        log.warning("closing connection %s (%s): it %s", socket.sid, socket.address, why)
        await self.close(socket, code, why, Reason.SERVER_DISCONNECT)
        return Reason.SERVER_DISCONNECT

    async def _pace(self, socket: EngineSocket) -> None:
        """Token bucket: a socket over its packet rate waits here (and TCP holds back the rest)."""
        loop = asyncio.get_running_loop()
        rate, burst = self.options.packets_per_second, self.options.packet_burst
        now = loop.time()
        socket.tokens = min(burst, socket.tokens + (now - socket.paced_at) * rate)
        socket.paced_at = now
        if socket.tokens < 1:
            self.stats["paced"] += 1
            await asyncio.sleep((1 - socket.tokens) / rate)
            socket.tokens, socket.paced_at = 1.0, loop.time()
        socket.tokens -= 1

    async def event_slot(self, sid: str) -> Callable[[], None]:
        """Wait until this socket has fewer than `events_in_flight` events running; returns the release."""
        socket = self.sockets.get(sid)
        if socket is None:
            return lambda: None
        while socket.in_flight >= self.options.events_in_flight:
            socket.waiter = asyncio.get_running_loop().create_future()
            await socket.waiter
        socket.in_flight += 1

        def release() -> None:
            socket.in_flight -= 1
            if socket.waiter is not None and not socket.waiter.done():
                socket.waiter.set_result(None)
            socket.waiter = None

        return release

    def report(self) -> dict[str, Any]:
        """Live figures for /healthz and the dashboard."""
        return {"connections": len(self.sockets), "backlogged": len(self.backlog.waiting), **dict(self.stats)}


def _texts_and_wire(texts: list[str]) -> tuple[bytes, list[str]]:
    return wire(texts), texts


def _query(raw: bytes) -> dict[str, str]:
    """The handshake's query (`EIO=4&transport=websocket`): plain pairs, so no percent-decoding."""
    pairs = (item.partition(b"=") for item in raw.split(b"&") if item)
    return {key.decode("latin-1"): value.decode("latin-1") for key, _, value in pairs}


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _environ(scope: dict, address: str) -> dict[str, Any]:
    """What the connect handler needs of the request, WSGI-style as python-socketio passes it on."""
    environ = {"REMOTE_ADDR": address, "QUERY_STRING": scope.get("query_string", b"").decode("latin-1")}
    for name, key in ((b"origin", "HTTP_ORIGIN"), (b"host", "HTTP_HOST"), (b"user-agent", "HTTP_USER_AGENT")):
        value = _header(scope, name)
        if value is not None:
            environ[key] = value
    return environ


async def _http_refusal(send: Callable, status: int, body: dict) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})


async def _websocket_refusal(scope: dict, send: Callable, status: int, body: dict) -> None:
    """Refuse the handshake (HTTP 403: browsers show a failed handshake's details to no script)."""
    log.info("refused a websocket handshake (%d): %s", status, body["message"])
    await send({"type": "websocket.close", "code": 1008})
