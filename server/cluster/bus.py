"""The event bus over Redis pub/sub: one publish per committed batch, heard by every process.

A process delivers its own events to its own subscribers first (no round trip on the way to its
own sockets), then publishes the batch once, tagged with its node id; every other process hears
it on the channel and delivers it to its subscribers, which write to their local sockets. Redis
keeps one publisher's messages in order, so each conversation's events from one process arrive
in the order they were committed.

Pub/sub keeps nothing for a subscriber that is away. If this process loses its subscription, it
may have missed events: once it is subscribed again it asks its clients to reconnect (`on_gap`),
and they catch up by message id, so nothing stored is missed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable

import orjson
from redis.exceptions import RedisError

from server.chat.events import Event, EventBus
from server.cluster.node import PREFIX, Node

log = logging.getLogger(__name__)
CHANNEL = PREFIX + "events:{database}"
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
MAX_UNPUBLISHED = 10_000  # batches kept for publishing while Redis is away; beyond, the oldest go (logged)


async def _nothing() -> None:
    return None


class RedisEventBus(EventBus):
    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.on_gap: Callable[[], Awaitable[None]] = _nothing
        self.published = 0
        self.heard = 0
        self._task: asyncio.Task | None = None
        self._subscribed = asyncio.Event()
        self._outbox: collections.deque[bytes] = collections.deque()
        self._pending = asyncio.Event()
        self._publisher: asyncio.Task | None = None
        self.lost = 0
        self.channel = CHANNEL.format(database=node.database)

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._listen())
        self._publisher = asyncio.ensure_future(self._publishing())
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._outbox:  # what was committed here still reaches the others (briefly)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), timeout=2)
        for task in (self._task, self._publisher):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def publish(self, events: list[Event]) -> None:
        """To this process's subscribers now; to the others through one ordered publisher."""
        if not events:
            return
        await self.deliver(events)
        payload = orjson.dumps({"node": self.node.id, "events": [event.as_dict() for event in events]})
        if len(self._outbox) >= MAX_UNPUBLISHED:
            self._outbox.popleft()
            self.lost += 1
            log.error("dropped the oldest unpublished event batch (%d waiting): Redis has been away too long",
                      MAX_UNPUBLISHED)
        self._outbox.append(payload)
        self._pending.set()

    async def _publishing(self) -> None:
        """One connection's worth of PUBLISH, in commit order: batches never overtake each other. A batch
        that fails waits at the head and goes again once Redis answers (late, never reordered)."""
        attempt = 0
        while True:
            await self._pending.wait()
            while self._outbox:
                try:
                    await self.node.redis.publish(self.channel, self._outbox[0])
                except (RedisError, OSError) as error:
                    self.node.failed(error, "publishing events")
                    await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                    attempt += 1
                    continue
                attempt = 0
                self._outbox.popleft()
                self.published += 1
            self._pending.clear()

    async def _drained(self) -> None:
        while self._outbox:
            await asyncio.sleep(0.01)

    async def _listen(self) -> None:
        attempt = 0
        gap = False
        while True:
            pubsub = self.node.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if gap:
                    # First what this node holds, written again (so that reconnecting guests are admitted
                    # against the right counts), then the clients, who catch up on what they missed.
                    while not self.node.healthy:
                        await self.node.beat()
                        if not self.node.healthy:
                            await asyncio.sleep(RETRY_SECONDS[-1])
                    log.warning("subscribed to %s again: asking this node's clients to reconnect and catch up", self.channel)
                    await self.on_gap()
                attempt, gap = 0, False
                async for message in pubsub.listen():
                    await self._heard(message)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as error:  # Redis, or anything else: resubscribe, and count it as a gap
                if isinstance(error, (RedisError, OSError)):
                    self.node.failed(error, f"listening on {self.channel}")
                else:
                    log.exception("the event listener failed; subscribing again")
                gap = True
                await pubsub.aclose()
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1

    async def _heard(self, message: dict) -> None:
        if message.get("type") != "message":
            return
        try:
            batch = orjson.loads(message["data"])
            if batch["node"] == self.node.id:
                return
            events = [Event.from_dict(item) for item in batch["events"]]
        except (ValueError, KeyError, TypeError):
            log.exception("ignored a malformed message on %s", self.channel)
            return
        self.heard += 1
        await self.deliver(events)
