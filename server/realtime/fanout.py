"""Room broadcasts at the physical floor: one encoding, one frame, one buffered write per recipient.

python-socketio's stock manager encodes a broadcast once but then creates an asyncio task per
recipient, each queued for the engine socket's own writer task: several short-lived objects per
delivery, which in a large room make the garbage collector the main cost (PERFORMANCE.md). A
server-to-client text frame carries the same bytes for every recipient, so `FanoutManager`
frames a broadcast once and hands the bytes to each recipient's writer (engine.py), the same
ordered, capped path its acknowledgements and pings take.

Broadcasts to a large room wait a few milliseconds for others, so that a burst becomes one write
per recipient. That delay sits before the socket's writer: an acknowledgement sent meanwhile may
reach a client before a broadcast made just earlier; clients order messages by time and drop
repeats by id (docs/protocol.md, "Deduplication").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from socketio import packet as sio_packet

from server.realtime._internals import IndexedRoomsManager
from server.realtime.engine import wire

log = logging.getLogger(__name__)

# Broadcasts to a large room wait this long for others to join them in one write per recipient:
# under a burst that trades a few milliseconds of latency for several times the throughput.
LARGE_ROOM = 500
COALESCE_SECONDS = 0.005

Recipients = list[str]  # engine.io sids


class FanoutManager(IndexedRoomsManager):
    def __init__(self) -> None:
        super().__init__()
        self._batches: list[tuple[Recipients, str]] = []  # broadcasts waiting for the next flush
        self._flush_scheduled = False
        self.deliveries = 0  # frames handed to writers (for /healthz and tests)

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback is not None:  # Parley never asks clients for acknowledgements
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        if namespace not in self.get_namespaces():
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        if not isinstance(encoded, str):
            raise TypeError("Parley sends no binary data to clients")
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        targets = self.sid_targets(namespace, room) or self.get_participants(namespace, room)
        recipients = [eio_sid for sid, eio_sid in targets if sid not in skip]
        if recipients:
            self._queue(recipients, "4" + encoded)

    def _queue(self, recipients: Recipients, text: str) -> None:
        """Written, in emit order, when the event loop next comes round (a large room: a little later)."""
        self._batches.append((recipients, text))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop = asyncio.get_running_loop()
            if len(recipients) >= LARGE_ROOM:
                loop.call_later(COALESCE_SECONDS, self._flush)
            else:
                loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batches, self._batches = self._batches, []
        engine = self.server.eio
        for recipients, texts in _coalesce(batches):
            frames = wire(texts)
            for eio_sid in recipients:
                try:
                    if engine.write(eio_sid, texts, frames):
                        self.deliveries += len(texts)
                except Exception:  # one broken socket must not cost the others their delivery
                    log.exception("broadcast to %s failed", eio_sid)
        engine.backlog.enforce_total(asyncio.get_running_loop().time())


def _coalesce(batches: list[tuple[Recipients, str]]) -> list[tuple[Recipients, list[str]]]:
    """Consecutive broadcasts to the same recipients become one write of several frames."""
    groups: list[tuple[Recipients, list[str]]] = []
    for recipients, text in batches:
        if groups and groups[-1][0] == recipients:
            groups[-1][1].append(text)
        else:
            groups.append((recipients, [text]))
    return groups

