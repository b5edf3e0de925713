"""Events: what changed, published to subscribers only after the write that made it committed.

Use cases collect events while they write and hand them to `EventBus.publish` once
`Database.write` has returned (the transaction is committed by then). The realtime layer
subscribes and forwards each event to a Socket.IO room; nothing here knows about sockets.
With several processes the bus is the seam where they meet (server/cluster/bus.py): each
published batch goes to this process's subscribers and, as one Redis message, to every other's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

_DEFINED: list[str] = []


def define(name: str) -> str:
    """An event name; every name defined here is one clients may receive (docs/protocol.md, "Server to client")."""
    _DEFINED.append(name)
    return name


# Event names double as the Socket.IO event names clients receive.
MESSAGE_NEW = define("message:new")
MESSAGE_UPDATED = define("message:updated")
MESSAGE_DELETED = define("message:deleted")
CONVERSATION_UPDATED = define("conversation:updated")
CONVERSATION_DELETED = define("conversation:deleted")
PARTICIPANT_ADDED = define("participant:added")
PARTICIPANT_UPDATED = define("participant:updated")
PARTICIPANT_REMOVED = define("participant:removed")
READ_MARKER = define("conversation:read")
TYPING = define("typing")  # not stored: on the bus only so that it reaches every process (chat.typing coalesces it)
SERVER_EVENTS = tuple(_DEFINED)


@dataclasses.dataclass(frozen=True)
class Event:
    name: str
    app_id: str
    conversation_id: str
    data: dict[str, Any]
    user_id: str | None = None  # the user an event is about, where there is one
    # Also for these users wherever they are connected, not only in the conversation's UIs:
    # their inbox feeds, unread counters and onMessage handlers (participants only, never guests).
    users: tuple[str, ...] = ()
    skip: str | None = None  # the connection that caused it and must not hear it (a typist)

    @property
    def stored(self) -> bool:
        """False for what changes nothing stored (typing): no cached read goes stale for it."""
        return self.name != TYPING

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(**{**data, "users": tuple(data.get("users") or ())})


Subscriber = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    async def start(self) -> None:
        """Begin hearing other processes' events (nothing to do for one process)."""

    async def stop(self) -> None: ...

    async def publish(self, events: list[Event]) -> None:
        await self.deliver(events)

    async def deliver(self, events: list[Event]) -> None:
        """To this process's subscribers, in order."""
        for event in events:
            for subscriber in self._subscribers:
                try:
                    await subscriber(event)
                except Exception:  # one failing subscriber must not hide the event from others
                    log.exception("event subscriber failed for %s", event.name)
