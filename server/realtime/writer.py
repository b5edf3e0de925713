"""One ordered writer per socket, with backpressure: every frame to a client leaves through it.

`DirectWriter` writes finished websocket frames to the connection's transport (the fast path:
one `transport.write` per delivery, see `_internals.transport_of`); `AsgiWriter` sends through
the ASGI server when that is not possible. Both refuse to grow without bound: a socket whose
unsent backlog is over `Backlog.per_socket` when the next frame comes is dropped, and when the
backlogs of all sockets together pass `Backlog.total` the largest are dropped first. A dropped
client reconnects and catches up by message id (docs/protocol.md).

The transport's own buffer is the queue of the fast path: asyncio sends what the kernel takes at
once and keeps the rest, in order, so no frame overtakes another and nothing waits on a task.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

# How often, at most, the total of all backlogs is added up (it walks every backlogged socket).
TOTAL_CHECK_SECONDS = 0.05
_tasks: set[asyncio.Task] = set()  # background tasks are kept until done (asyncio holds them weakly)


def spawn(coroutine: Any) -> asyncio.Task:
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


async def settle(timeout: float) -> int:
    """Wait (at most `timeout` s) for background tasks in flight, e.g. events being handled at shutdown;
    returns how many were still running after that."""
    pending = {task for task in _tasks if not task.done()}
    if pending:
        _, pending = await asyncio.wait(pending, timeout=timeout)
    return len(pending)


class Backlog:
    """The per-socket cap and the total budget, shared by all writers of one engine."""

    def __init__(self, per_socket: int, total: int, on_overflow: Callable[[Any, int, str], None]) -> None:
        self.per_socket = per_socket
        self.total = total
        self.on_overflow = on_overflow  # (writer, pending bytes, why): the engine drops that socket
        self.waiting: set[Any] = set()  # writers that had bytes left unsent after their last write
        self._checked_at = 0.0
        self.dropped = 0

    def over_cap(self, writer: Any, pending: int) -> bool:
        if pending <= self.per_socket:
            return False
        self.dropped += 1
        self.on_overflow(writer, pending, f"over the per-connection cap of {self.per_socket} bytes")
        return True

    def pending_total(self) -> int:
        """Bytes not yet taken by the network, over every socket (drained ones are forgotten)."""
        total = 0
        for writer in list(self.waiting):
            pending = writer.pending()
            if pending:
                total += pending
            else:
                self.waiting.discard(writer)
        return total

    def enforce_total(self, now: float, force: bool = False) -> None:
        """Drop the largest backlogs until all of them together fit the budget."""
        if not self.waiting or (not force and now - self._checked_at < TOTAL_CHECK_SECONDS):
            return
        self._checked_at = now
        total = self.pending_total()
        if total <= self.total:
            return
        for writer in sorted(self.waiting, key=lambda w: w.pending(), reverse=True):
            pending = writer.pending()
            self.waiting.discard(writer)
            self.dropped += 1
            self.on_overflow(writer, pending, f"all connections together are over the budget of {self.total} bytes")
            total -= pending
            if total <= self.total:
                return


class DirectWriter:
    """Finished frames straight to the websocket's transport."""

    __slots__ = ("sid", "transport", "send", "backlog", "closed", "__weakref__")
    kind = "direct"

    def __init__(self, sid: str, transport: asyncio.Transport, send: Callable, backlog: Backlog) -> None:
        self.sid = sid  # the engine socket's, for the engine to find it when dropping it
        self.transport = transport
        self.send = send  # the ASGI send, only to close the connection properly
        self.backlog = backlog
        self.closed = False

    def write(self, wire: bytes, texts: Sequence[str]) -> bool:
        """Write `wire` (the websocket frames of `texts`); False if the socket is gone or dropped."""
        transport = self.transport
        if self.closed or transport.is_closing():
            return False
        pending = transport.get_write_buffer_size()
        if pending and self.backlog.over_cap(self, pending):
            return False
        transport.write(wire)
        if transport.get_write_buffer_size():
            self.backlog.waiting.add(self)
        return True

    @property
    def gone(self) -> bool:
        """Closed by either side (or by the server shutting down): what is still unread is moot."""
        return self.closed or self.transport.is_closing()

    def pending(self) -> int:
        return 0 if self.transport.is_closing() else self.transport.get_write_buffer_size()

    def abort(self) -> None:
        """Drop the connection at once, unsent bytes and all."""
        self.closed = True
        self.transport.abort()

    async def close(self, code: int, reason: str) -> None:
        """A closing handshake through the ASGI server, unless the client is too far behind for it."""
        if self.closed:
            return
        self.closed = True
        if self.transport.get_write_buffer_size() > self.backlog.per_socket or self.transport.is_closing():
            self.transport.abort()
            return
        await self.send({"type": "websocket.close", "code": code, "reason": reason})


class AsgiWriter:
    """Frames through the ASGI server's `send`, in order, by one task that runs while there is work."""

    __slots__ = ("sid", "send", "backlog", "queue", "queued_bytes", "task", "closed", "__weakref__")
    kind = "asgi"

    def __init__(self, sid: str, send: Callable, backlog: Backlog) -> None:
        self.sid = sid
        self.send = send
        self.backlog = backlog
        self.queue: collections.deque[str] = collections.deque()
        self.queued_bytes = 0
        self.task: asyncio.Task | None = None
        self.closed = False

    def write(self, wire: bytes, texts: Sequence[str]) -> bool:
        if self.closed:
            return False
        if self.queued_bytes and self.backlog.over_cap(self, self.queued_bytes):
            return False
        for text in texts:
            self.queue.append(text)
            self.queued_bytes += len(text)
        self.backlog.waiting.add(self)
        if self.task is None:
            self.task = spawn(self._drain())
        return True

    async def _drain(self) -> None:
        try:
            while self.queue and not self.closed:
                text = self.queue.popleft()
                self.queued_bytes -= len(text)
                await self.send({"type": "websocket.send", "text": text})
        except Exception as error:  # the connection went away: its reader ends the socket
            log.info("write failed, closing: %s", error)
            self.closed = True
        finally:
            self.task = None

    def pending(self) -> int:
        return self.queued_bytes

    def abort(self) -> None:
        self.closed = True
        self.queue.clear()
        self.queued_bytes = 0
        if self.task is not None:
            self.task.cancel()
        spawn(self._send_close(1008, "too far behind"))

    @property
    def gone(self) -> bool:
        return self.closed

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self.task is not None:
            await asyncio.wait({self.task}, timeout=5)
        await self._send_close(code, reason)

    async def _send_close(self, code: int, reason: str) -> None:
        try:
            await self.send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:  # already gone
            pass
