"""Guests: live connections to a conversation and nothing more (no membership row, ever).

Admitted guests are counted per conversation behind `GuestRegistry`, the one seam a
multi-node deployment replaces (a Redis-backed registry every node can see). A slot is
held by a connection ("member") and freed when it leaves or drops.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Protocol

from server.chat.errors import Conflict


class GuestRegistry(Protocol):
    async def admit(self, conversation_key: str, member: str, limit: int) -> bool:
        """Hold a slot for `member` unless `limit` slots are held by others; idempotent."""

    async def release(self, conversation_key: str, member: str) -> None:
        """Free `member`'s slot, if it holds one."""

    async def is_admitted(self, conversation_key: str, member: str) -> bool: ...

    async def count(self, conversation_key: str) -> int: ...

    async def drop(self, conversation_key: str) -> None:
        """Forget every slot of a conversation (it was deleted)."""

    async def counts(self, app_id: str) -> dict[str, int]:
        """Guests online per conversation id of one app (for the dashboard)."""


class LocalGuestRegistry:
    """Guest slots in this process's memory: exact for one process."""

    def __init__(self) -> None:
        self._members: defaultdict[str, set[str]] = defaultdict(set)
        self._lock = asyncio.Lock()

    async def admit(self, conversation_key: str, member: str, limit: int) -> bool:
        async with self._lock:
            members = self._members[conversation_key]
            if member not in members and len(members) >= limit:
                return False
            members.add(member)
            return True

    async def release(self, conversation_key: str, member: str) -> None:
        async with self._lock:
            members = self._members.get(conversation_key)
            if members is not None:
                members.discard(member)
                if not members:
                    del self._members[conversation_key]

    async def is_admitted(self, conversation_key: str, member: str) -> bool:
        return member in self._members.get(conversation_key, ())

    async def count(self, conversation_key: str) -> int:
        return len(self._members.get(conversation_key, ()))

    async def drop(self, conversation_key: str) -> None:
        async with self._lock:
            self._members.pop(conversation_key, None)

    async def counts(self, app_id: str) -> dict[str, int]:
        prefix = conversation_key(app_id, "")
        return {key[len(prefix) :]: len(members) for key, members in self._members.items() if key.startswith(prefix)}


def conversation_key(app_id: str, conversation_id: str) -> str:
    return f"{len(app_id)}:{app_id}:{conversation_id}"  # length prefix: no two (app, id) pairs collide


def guest_limit_reached(conversation_id: str, limit: int) -> Conflict:
    return Conflict(
        f"conversation {conversation_id!r} already has {limit} guests, the most this app allows at once",
        code="GUEST_LIMIT_REACHED",
    )
