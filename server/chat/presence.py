"""Presence: which users are online (connected somewhere), and how many connections each app has.

`Presence` is the seam a multi-process deployment replaces (server/cluster/presence.py: every
process's share in Redis, summed). A user is online while any of their connections is open, on
any process; notification decisions and the dashboard's live figures read it. A user *views* a
conversation while one of their connections shows it in a visible, focused UI (the widget says
so); viewers of a conversation are not notified of its messages.
"""

from __future__ import annotations

import collections
from typing import Protocol


class Presence(Protocol):
    def connected(self, app_id: str, user_id: str) -> None:
        """One more open connection of this user (in this process)."""

    def disconnected(self, app_id: str, user_id: str) -> None: ...

    async def is_online(self, app_id: str, user_id: str) -> bool:
        """Whether the user has an open connection on any process."""

    async def connections(self, app_id: str) -> int:
        """Open connections of an app, over all processes."""

    def viewing(self, app_id: str, conversation_id: str, user_id: str, views: bool) -> None:
        """One of this user's connections (in this process) started or stopped viewing the conversation."""

    async def viewers(self, app_id: str, conversation_id: str) -> frozenset[str]:
        """The users viewing the conversation now, on any process."""


class LocalPresence:
    """Presence in this process's memory: exact for one process."""

    def __init__(self) -> None:
        self.users: collections.Counter[tuple[str, str]] = collections.Counter()
        self.apps: collections.Counter[str] = collections.Counter()
        # (app id, conversation id) -> user id -> connections viewing it
        self.views: collections.defaultdict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)

    def connected(self, app_id: str, user_id: str) -> None:
        self.users[(app_id, user_id)] += 1
        self.apps[app_id] += 1

    def disconnected(self, app_id: str, user_id: str) -> None:
        key = (app_id, user_id)
        self.users[key] -= 1
        if self.users[key] <= 0:
            del self.users[key]
        self.apps[app_id] -= 1
        if self.apps[app_id] <= 0:
            del self.apps[app_id]

    def is_online_here(self, app_id: str, user_id: str) -> bool:
        return (app_id, user_id) in self.users

    async def is_online(self, app_id: str, user_id: str) -> bool:
        return self.is_online_here(app_id, user_id)

    async def connections(self, app_id: str) -> int:
        return self.apps.get(app_id, 0)

    def viewing(self, app_id: str, conversation_id: str, user_id: str, views: bool) -> None:
        key = (app_id, conversation_id)
        counts = self.views[key]
        counts[user_id] += 1 if views else -1
        if counts[user_id] <= 0:
            del counts[user_id]
        if not counts:
            del self.views[key]

    def viewers_here(self, app_id: str, conversation_id: str) -> frozenset[str]:
        counts = self.views.get((app_id, conversation_id))
        return frozenset(counts) if counts else frozenset()

    async def viewers(self, app_id: str, conversation_id: str) -> frozenset[str]:
        return self.viewers_here(app_id, conversation_id)
