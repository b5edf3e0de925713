"""What a guest's join answers is the same for every guest of a conversation until something in it
changes: a lobby's thousands of arriving guests share one read instead of each making their own.

A snapshot is valid until the next event of its conversation. Every committed event ticks a clock
and records the conversation as changed at that tick (this subscriber runs before the realtime
layer forwards the event); a snapshot read before a conversation's last change is never stored
nor served, so no guest is handed a snapshot that misses a message it will not also receive live.
"""

from __future__ import annotations

import collections
from typing import Any

from server.chat.events import Event

MAX_SNAPSHOTS = 1_000  # conversations x page sizes; the least recently used go first
MAX_CHANGES = 100_000  # conversations whose last change is remembered; older ones count as changed at `_floor`

Key = tuple[str, str, int]  # app id, conversation id, page size


class JoinSnapshots:
    def __init__(self) -> None:
        self._snapshots: collections.OrderedDict[Key, tuple[int, dict[str, Any], frozenset[str]]] = (
            collections.OrderedDict()
        )
        self._changed: collections.OrderedDict[tuple[str, str], int] = collections.OrderedDict()
        self._clock = 0
        self._floor = 0  # the latest change forgotten: a conversation not remembered changed no later
        self.hits = 0

    def now(self) -> int:
        """Take this before reading; pass it to `put` with what was read."""
        return self._clock

    def _changed_at(self, app_id: str, conversation_id: str) -> int:
        return self._changed.get((app_id, conversation_id), self._floor)

    def _valid(self, key: Key) -> tuple[int, dict[str, Any], frozenset[str]] | None:
        entry = self._snapshots.get(key)
        if entry is None or entry[0] < self._changed_at(key[0], key[1]):
            return None
        self._snapshots.move_to_end(key)
        return entry

    def get(self, key: Key) -> dict[str, Any] | None:
        entry = self._valid(key)
        if entry is not None:
            self.hits += 1
        return entry[1] if entry else None

    def members(self, key: Key) -> frozenset[str] | None:
        """The conversation's participants as of now, if a valid snapshot knows them."""
        entry = self._valid(key)
        return entry[2] if entry else None

    def put(self, key: Key, read_at: int, snapshot: dict[str, Any]) -> None:
        """Store a snapshot whose read began at `read_at`, unless its conversation changed since."""
        if read_at < self._changed_at(key[0], key[1]):
            return
        self._snapshots[key] = (read_at, snapshot, frozenset(p["id"] for p in snapshot["participants"]))
        self._snapshots.move_to_end(key)
        while len(self._snapshots) > MAX_SNAPSHOTS:
            self._snapshots.popitem(last=False)

    async def on_event(self, event: Event) -> None:
        if not event.stored:
            return
        self._clock += 1
        conversation = (event.app_id, event.conversation_id)
        self._changed[conversation] = self._clock
        self._changed.move_to_end(conversation)
        while len(self._changed) > MAX_CHANGES:
            _, forgotten = self._changed.popitem(last=False)
            self._floor = max(self._floor, forgotten)
