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
import logging
from collections.abc import Awaitable, Callable

import orjson
from redis.exceptions import RedisError

from server.chat.events import Event, EventBus
from server.cluster.node import PREFIX, Node

log = logging.getLogger(__name__)
CHANNEL = PREFIX + "events:{database}"
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)


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
        self.channel = CHANNEL.format(database=node.database)

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._listen())
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        await self.deliver(events)
        payload = orjson.dumps({"node": self.node.id, "events": [event.as_dict() for event in events]})
        try:
            await self.node.redis.publish(self.channel, payload)
            self.published += 1
        except (RedisError, OSError) as error:  # delivered here; the others resync when their link is back
            self.node.failed(error, "publishing events")

    async def _listen(self) -> None:
        attempt = 0
        gap = False
        while True:
            pubsub = self.node.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if gap:
                    log.warning("subscribed to %s again: asking this node's clients to reconnect and catch up", self.channel)
                    await self.on_gap()
                attempt, gap = 0, False
                async for message in pubsub.listen():
                    await self._heard(message)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except (RedisError, OSError) as error:
                self.node.failed(error, f"listening on {self.channel}")
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
