"""Everything Parley takes from inside uvicorn and python-socketio, in one place, checked at start-up.

- uvicorn: behind the ASGI `send` of a websocket is a bound method of its sans-I/O websocket
  protocol; its `transport` is where the fast path writes finished frames (`transport_of`).
- python-socketio: `AsyncServer._engineio_server_class` (Parley's engine instead of python-engineio's),
  `_handle_eio_message` (every packet checked before dispatch), and the `_handle_connect`,
  `_handle_disconnect` and `_handle_event_internal` it then calls; the manager's room table
  (`BaseManager.rooms`), indexed by socket so that leaving and disconnecting cost O(own rooms).

`WRITTEN_FOR` names the versions this was written and tested against (pyproject.toml bounds them);
`check()` runs at start-up and says which write path is active and why (the app logs it and
`/healthz` shows it). `tests/test_internals.py` runs both against the real libraries.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
from collections.abc import Callable
from typing import Any

import socketio
from socketio import packet as sio_packet

log = logging.getLogger(__name__)

WRITTEN_FOR = {"uvicorn": "0.54", "python-socketio": "5.18", "websockets": "17"}
# Event names the Socket.IO client library itself uses; a client sending one is refused.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"})


class ProtocolError(Exception):
    """A client broke the protocol: it is disconnected, with this reason logged (no traceback)."""


def _sansio_protocol_class() -> type | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:
        return None
    return WebSocketsSansIOProtocol


def transport_of(send: Callable) -> asyncio.Transport | None:
    """The transport of the websocket behind an ASGI `send`, if it is uvicorn's sans-I/O protocol's own
    (not wrapped by middleware) and open; None means: write through `send` instead."""
    protocol = getattr(send, "__self__", None)
    protocol_class = _sansio_protocol_class()
    if protocol_class is None or type(protocol) is not protocol_class or getattr(send, "__func__", None) is not protocol_class.send:
        return None
    transport = getattr(protocol, "transport", None)
    if transport is None or getattr(protocol, "close_sent", True) or transport.is_closing():
        return None
    if not all(hasattr(transport, name) for name in ("write", "get_write_buffer_size", "abort")):
        return None
    return transport


def release_handshake(send: Callable) -> None:
    """Let go of the parsed handshake (request and response headers, ~2.5 KB) that uvicorn's protocol
    keeps for the connection's whole life though it is done with it once the socket is accepted."""
    protocol = getattr(send, "__self__", None)
    protocol_class = _sansio_protocol_class()
    if protocol_class is not None and type(protocol) is protocol_class and getattr(protocol, "handshake_complete", False):
        protocol.request = None
        protocol.response = None


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def check(ws_protocol: str) -> dict[str, Any]:
    """Whether the direct write path can work with what is installed and configured, and why not."""
    versions = {name: _version(name) for name in WRITTEN_FOR}
    untested = sorted(name for name, version in versions.items() if not version.startswith(WRITTEN_FOR[name]))
    problems = []
    if ws_protocol != "websockets-sansio":
        problems.append(f"uvicorn's websocket protocol is {ws_protocol!r}, not 'websockets-sansio'")
    protocol_class = _sansio_protocol_class()
    if protocol_class is None:
        problems.append("uvicorn has no sans-I/O websocket protocol")
    elif not inspect.iscoroutinefunction(getattr(protocol_class, "send", None)):
        problems.append("uvicorn's sans-I/O websocket protocol has no send coroutine")
    for name in ("_engineio_server_class", "_handle_connect", "_handle_disconnect", "_handle_event_internal"):
        if not callable(getattr(socketio.AsyncServer, name, None)):
            raise RuntimeError(f"python-socketio {versions['python-socketio']} lacks AsyncServer.{name}: "
                               f"Parley needs python-socketio {WRITTEN_FOR['python-socketio']}")
    report = {
        "writePath": "direct" if not problems else "asgi",
        "why": "; ".join(problems) or "uvicorn's sans-I/O websocket transport",
        "versions": versions,
        "untested": untested,
    }
    return report


def log_check(report: dict[str, Any]) -> None:
    if report["writePath"] == "direct":
        log.info("realtime: frames are written directly to websocket transports (%s)", report["why"])
    else:
        log.warning("realtime: frames go through the ASGI server, the slow path: %s", report["why"])
    if report["untested"]:
        log.warning("realtime: written for %s, running %s: check docs/deployment.md before upgrading",
                    WRITTEN_FOR, report["versions"])


class IndexedRoomsManager(socketio.AsyncManager):
    """python-socketio's manager finds a socket's rooms by scanning every room of the namespace (and
    copying the table) at each disconnect: with a room per user, 10,000 guests leaving take minutes.
    Here each socket's rooms are indexed. Sockets get no room of their own (nothing here emits to a
    sid); `emit(to=sid)` still reaches one socket through `sid_targets`."""

    def __init__(self) -> None:
        super().__init__()
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        if room == sid and room is not None:
            return  # no sid rooms (see the class docstring)
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)

    def basic_close_room(self, room: Any, namespace: str) -> None:
        for sid, _ in list(self.get_participants(namespace, room)):
            self.basic_leave_room(sid, namespace, room)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        rooms = self._rooms_of.pop((namespace, sid), set())
        for room in sorted(rooms, key=lambda r: r is None):  # the namespace room (None) last
            super().basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def is_sid_room(self, namespace: str, room: Any) -> bool:
        return room is not None and self.eio_sid_from_sid(room, namespace) is not None

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    def sid_targets(self, namespace: str, room: Any) -> list[tuple[str, str]] | None:
        """`room` as one socket's sid: its (sid, eio_sid), else None."""
        if isinstance(room, str):
            eio_sid = self.eio_sid_from_sid(room, namespace)
            if eio_sid is not None:
                return [(room, eio_sid)]
        return None


def _packet_name(kind: int) -> str:
    names = getattr(sio_packet, "packet_names", None)
    return names[kind] if names and 0 <= kind < len(names) else str(kind)


class SocketServer(socketio.AsyncServer):
    """python-socketio's server on Parley's engine, with every client packet checked before dispatch."""

    def _engineio_server_class(self) -> type:
        from server.realtime.engine import EngineServer

        return EngineServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.eio.is_attached = lambda eio_sid: self.manager.sid_from_eio_sid(eio_sid, "/") is not None

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if not isinstance(data, str):
            raise ProtocolError("binary messages are not accepted")
        try:
            pkt = self.packet_class(encoded_packet=data)
        except Exception as error:
            raise ProtocolError(f"malformed Socket.IO packet ({type(error).__name__})") from None
        kind = pkt.packet_type
        if kind == sio_packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == sio_packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
            if (pkt.namespace or "/") == "/":
                # Parley serves one namespace: a client that leaves it has no use for the socket,
                # so it is closed now rather than left for the heartbeat to sweep up.
                await self.eio.disconnect(eio_sid)
        elif kind == sio_packet.EVENT:
            await self._dispatch_event(eio_sid, pkt)
        elif kind == sio_packet.ACK:
            pass  # Parley never asks a client to acknowledge anything
        else:
            raise ProtocolError(f"{_packet_name(kind)} packets are not accepted")

    async def _dispatch_event(self, eio_sid: str, pkt: Any) -> None:
        namespace = pkt.namespace or "/"
        data = pkt.data
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise ProtocolError("an event packet must start with the event's name")
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            return await self._refuse(eio_sid, namespace, pkt.id, "NOT_CONNECTED", "connect before sending events")
        if data[0] in RESERVED_EVENTS:
            log.warning("refused the reserved event name %r from %s", data[0], sid)
            return await self._refuse(eio_sid, namespace, pkt.id, "RESERVED_EVENT",
                                      f"{data[0]!r} is a reserved event name and cannot be sent")
        release = await self.eio.event_slot(eio_sid)
        from server.realtime.writer import spawn

        task = spawn(self._handle_event_internal(self, sid, eio_sid, data, namespace, pkt.id))
        task.add_done_callback(lambda _: release())

    async def _refuse(self, eio_sid: str, namespace: str, ack_id: int | None, code: str, message: str) -> None:
        if ack_id is not None:
            answer = {"error": {"code": code, "message": message}}
            await self._send_packet(eio_sid, self.packet_class(sio_packet.ACK, namespace=namespace, id=ack_id, data=[answer]))
