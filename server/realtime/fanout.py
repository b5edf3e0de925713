"""Room broadcasts at the physical floor: one encoding, one frame, one buffered write per recipient.

python-socketio's stock manager encodes a broadcast once but then creates an asyncio task per
recipient, and each engine.io socket queues the packet for its own writer task, which hands it
to the ASGI server to frame: several short-lived objects per delivery, which under a large room
make the garbage collector the main cost (PERFORMANCE.md). A server-to-client text frame carries
the same bytes for every recipient, so `FanoutManager` builds it once and writes it straight to
each websocket's transport. Broadcasts made in the same event-loop iteration (a burst) are joined
into one write per recipient.

Only connections that are native websockets under uvicorn's sans-I/O websocket protocol take
this path (that is how Parley serves; see `server.cli.serve`); anything else (long-polling, other
servers, callbacks) falls back to python-socketio's own path, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

log = logging.getLogger(__name__)

# A recipient this far behind (bytes waiting in its transport) cannot keep up: it is disconnected,
# reconnects and catches up by message id instead of growing the server's memory without bound.
MAX_BUFFERED_BYTES = 8 * 1024 * 1024
# Broadcasts to a large room wait this long for others to join them in one write per recipient:
# under a burst that trades a few milliseconds of latency for several times the throughput.
LARGE_ROOM = 500
COALESCE_SECONDS = 0.005


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final websocket text frame (RFC 6455 5.2): what a server sends."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def direct_transport(environ: dict[str, Any] | None) -> asyncio.Transport | None:
    """The socket's transport when the connection is an open native websocket we can write to."""
    if environ is None or environ.get("asgi.scope", {}).get("type") != "websocket":
        return None
    protocol = getattr(environ.get("asgi.send"), "__self__", None)
    transport = getattr(protocol, "transport", None)
    if transport is None or not getattr(protocol, "handshake_complete", False) or protocol.close_sent:
        return None
    if not hasattr(protocol, "conn") or transport.is_closing():  # not the sans-I/O protocol, or closing
        return None
    return transport


Recipients = list[tuple[str, str]]  # (socket.io sid, engine.io sid) pairs


class FanoutManager(socketio.AsyncManager):
    def __init__(self) -> None:
        super().__init__()
        self._batches: list[tuple[Recipients, bytes]] = []  # broadcasts waiting for the next flush
        self._flush_scheduled = False
        self._transports: dict[str, asyncio.Transport] = {}  # engine.io sid -> its websocket's transport

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback is not None or room is None or namespace not in self.rooms:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, data]).encode()
        if not isinstance(encoded, str):  # binary attachments: not on this path
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, **kwargs)
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        recipients = [(sid, eio_sid) for sid, eio_sid in self.get_participants(namespace, room) if sid not in skip]
        self._queue(recipients, ("4" + encoded).encode())

    def _queue(self, recipients: Recipients, eio_payload: bytes) -> None:
        """Written, in emit order, when the event loop next comes round (a large room: a little later)."""
        self._batches.append((recipients, eio_payload))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop = asyncio.get_running_loop()
            if len(recipients) >= LARGE_ROOM:
                loop.call_later(COALESCE_SECONDS, self._flush)
            else:
                loop.call_soon(self._flush)

    async def disconnect(self, sid, namespace, **kwargs):
        self._transports.pop(self.eio_sid_from_sid(sid, namespace), None)
        return await super().disconnect(sid, namespace, **kwargs)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batches, self._batches = self._batches, []
        for recipients, frames in _coalesce(batches):
            self._write_all(recipients, frames)

    def _write_all(self, recipients: Recipients, frames: list[bytes]) -> None:
        joined = b"".join(text_frame(p) for p in frames)
        transports = self._transports
        for sid, eio_sid in recipients:
            transport = transports.get(eio_sid)
            if transport is None or transport.is_closing():
                transport = self._resolve(eio_sid)
            if transport is None:
                self._fallback(eio_sid, frames)
            elif transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
                log.warning("disconnecting %s: %d bytes behind", sid, transport.get_write_buffer_size())
                transport.abort()
            else:
                transport.write(joined)

    def _resolve(self, eio_sid: str) -> asyncio.Transport | None:
        transport = direct_transport(self.server.environ.get(eio_sid))
        if transport is None:
            self._transports.pop(eio_sid, None)
        else:
            self._transports[eio_sid] = transport
        return transport

    def _fallback(self, eio_sid: str, frames: list[bytes]) -> None:
        for payload in frames:
            pkt = eio_packet.Packet(eio_packet.MESSAGE, payload[1:].decode())
            asyncio.ensure_future(self.server._send_eio_packet(eio_sid, pkt))


def _coalesce(batches: list[tuple[Recipients, bytes]]) -> list[tuple[Recipients, list[bytes]]]:
    """Consecutive broadcasts to the same recipients become one write of several frames."""
    groups: list[tuple[Recipients, list[bytes]]] = []
    for recipients, payload in batches:
        if groups and groups[-1][0] == recipients:
            groups[-1][1].append(payload)
        else:
            groups.append((recipients, [payload]))
    return groups
