"""What every use case needs: the database, the bus that carries events after commit, the guest
registry, presence, this process's live connections, the rate limiter, and apps' settings as they
are now. One process uses the in-memory seams; server/cluster replaces them with Redis-backed ones."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from server.chat import lookup, webhook_events
from server.chat.events import Event, EventBus
from server.chat.guests import GuestRegistry, LocalGuestRegistry
from server.chat.live import LiveConnections
from server.chat.presence import LocalPresence, Presence
from server.chat.ratelimits import RateLimiter
from server.chat.snapshots import JoinSnapshots
from server.chat.typing import TypingCoalescer
from server.db.database import Database
from server.db.models import App

T = TypeVar("T")
# Settings read for a check on a hot path (rate limits) are at most this old. A change made in this
# process applies at once; one made in another process within this many seconds.
SETTINGS_MAX_AGE_SECONDS = 2.0


@dataclasses.dataclass
class ChatContext:
    db: Database
    events: EventBus = dataclasses.field(default_factory=EventBus)
    guests: GuestRegistry = dataclasses.field(default_factory=LocalGuestRegistry)
    presence: Presence = dataclasses.field(default_factory=LocalPresence)
    limits: RateLimiter = dataclasses.field(default_factory=RateLimiter)
    snapshots: JoinSnapshots = dataclasses.field(default_factory=JoinSnapshots)
    typing: TypingCoalescer = dataclasses.field(default_factory=TypingCoalescer)
    notification_channels: tuple[str, ...] = ("email",)  # "sms" too with an SMS gateway configured
    _apps: dict[str, tuple[float, App]] = dataclasses.field(default_factory=dict)
    # A test seam: awaited with the conversation id after a join has read what it answers and before
    # it answers, to hold a join exactly there (tests of the join race). None in production.
    after_join_read: Callable[[str], Awaitable[None]] | None = None

    live: LiveConnections = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.live = LiveConnections(self.guests, self.presence)
        # First subscriber: a conversation's snapshots are invalid before anyone hears of its change.
        self.events.subscribe(self.snapshots.on_event)

    async def write(self, fn: Callable[..., tuple[T, list[Event]]], *args: object) -> T:
        """Run a writing use case: `fn` returns (result, events); events go out after commit."""
        result, events = await self.db.write(webhook_events.recorded, fn, args)  # webhooks in the same transaction
        await self.events.publish(events)
        return result

    async def current_app(self, app_id: str) -> App:
        """An app's row as it is now (within SETTINGS_MAX_AGE_SECONDS), without a query each time."""
        cached = self._apps.get(app_id)
        if cached is not None and time.monotonic() - cached[0] < SETTINGS_MAX_AGE_SECONDS:
            return cached[1]
        app = await self.db.read(lookup.find_app, app_id)
        self._apps[app_id] = (time.monotonic(), app)
        return app

    def forget_app(self, app_id: str) -> None:
        self._apps.pop(app_id, None)
