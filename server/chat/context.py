"""What every use case needs: the database and the bus that carries events after commit."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from typing import TypeVar

from server.chat.events import Event, EventBus
from server.chat.guests import GuestRegistry, LocalGuestRegistry
from server.db.database import Database

T = TypeVar("T")


@dataclasses.dataclass
class ChatContext:
    db: Database
    events: EventBus = dataclasses.field(default_factory=EventBus)
    guests: GuestRegistry = dataclasses.field(default_factory=LocalGuestRegistry)
    # Open realtime connections per app id, in this process (the dashboard's live figure).
    connections: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    async def write(self, fn: Callable[..., tuple[T, list[Event]]], *args: object) -> T:
        """Run a writing use case: `fn` returns (result, events); events go out after commit."""
        result, events = await self.db.write(fn, *args)
        await self.events.publish(events)
        return result
