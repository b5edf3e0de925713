"""This process's live connections, indexed by user and by conversation, and what a membership
change does to them.

The realtime layer registers each connection, and each conversation it joins, here. When a
committed change reaches this process (from its own writes or, over the bus, from another
process's), `apply` settles it for the connections this process holds: a guest who became a
participant gives up their guest slot, a removed participant's connections leave the room, a
deleted conversation's readers all leave. Each is found through an index, not a scan of every
connection, so a lobby of 10,000 guests costs nothing per unrelated event.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from server.chat import events
from server.chat.events import Event
from server.chat.guests import GuestRegistry, conversation_key
from server.chat.presence import Presence

if TYPE_CHECKING:  # sessions needs the context, which holds these
    from server.chat.sessions import Session

PARTICIPANT, GUEST = "participant", "guest"
# How the realtime layer takes a connection out of a conversation's room: (sid, app id, conversation id).
LeaveRoom = Callable[[str, str, str], Awaitable[None]]


@dataclasses.dataclass(eq=False, slots=True)
class Connection:
    sid: str
    session: Session
    joined: dict[str, str] = dataclasses.field(default_factory=dict)  # conversation id -> role
    open: bool = True
    viewing: str | None = None  # the joined conversation it shows in a visible, focused UI


async def _no_room(sid: str, app_id: str, conversation_id: str) -> None:
    return None


class LiveConnections:
    def __init__(self, guests: GuestRegistry, presence: Presence) -> None:
        self.guests = guests
        self.presence = presence
        self.leave_room: LeaveRoom = _no_room
        self._by_sid: dict[str, Connection] = {}
        self._by_user: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        self._by_conversation: defaultdict[tuple[str, str], set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._by_sid)

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def open(self, sid: str, session: Session) -> Connection:
        connection = Connection(sid, session)
        self._by_sid[sid] = connection
        self._by_user[(session.app_id, session.user_id)].add(sid)
        self.presence.connected(session.app_id, session.user_id)
        return connection

    async def close(self, sid: str) -> Connection | None:
        """The connection ended (for any reason): every guest slot it held is freed."""
        connection = self._by_sid.pop(sid, None)
        if connection is None:
            return None
        connection.open = False
        session = connection.session
        _discard(self._by_user, (session.app_id, session.user_id), sid)
        self.presence.disconnected(session.app_id, session.user_id)
        for conversation_id in list(connection.joined):
            await self.leave(connection, conversation_id)
        return connection

    def joined(self, connection: Connection, conversation_id: str, role: str) -> None:
        """Only for an open connection (the caller checks `open` after its last await)."""
        connection.joined[conversation_id] = role
        self._by_conversation[(connection.session.app_id, conversation_id)].add(connection.sid)

    def view(self, connection: Connection, conversation_id: str | None) -> None:
        """What the connection shows in a visible, focused UI now (None: nothing; a joined conversation)."""
        session = connection.session
        if connection.viewing == conversation_id:
            return
        if connection.viewing is not None:
            self.presence.viewing(session.app_id, connection.viewing, session.user_id, False)
        connection.viewing = conversation_id
        if conversation_id is not None:
            self.presence.viewing(session.app_id, conversation_id, session.user_id, True)

    async def leave(self, connection: Connection, conversation_id: str) -> None:
        session = connection.session
        if connection.viewing == conversation_id:
            self.view(connection, None)
        role = connection.joined.pop(conversation_id, None)
        _discard(self._by_conversation, (session.app_id, conversation_id), connection.sid)
        if role == GUEST:
            await self.guests.release(conversation_key(session.app_id, conversation_id), connection.sid)
        await self.leave_room(connection.sid, session.app_id, conversation_id)

    async def apply(self, event: Event) -> None:
        """A committed membership change, for this process's connections (after it was delivered)."""
        if event.name == events.PARTICIPANT_ADDED and event.user_id is not None:
            await self._promote_guests(event.app_id, event.user_id, event.conversation_id)
        elif event.name == events.PARTICIPANT_REMOVED and event.user_id is not None:
            for connection in self._of_user(event.app_id, event.user_id):
                if connection.joined.get(event.conversation_id) == PARTICIPANT:
                    await self.leave(connection, event.conversation_id)
        elif event.name == events.CONVERSATION_DELETED:
            try:
                for sid in list(self._by_conversation.get((event.app_id, event.conversation_id), ())):
                    connection = self._by_sid.get(sid)  # it may have closed while an earlier one left
                    if connection is not None:
                        await self.leave(connection, event.conversation_id)
            finally:
                await self.guests.drop(conversation_key(event.app_id, event.conversation_id))

    async def _promote_guests(self, app_id: str, user_id: str, conversation_id: str) -> None:
        """A guest who became a participant is one now on every connection: their guest slot frees."""
        for connection in self._of_user(app_id, user_id):
            if connection.joined.get(conversation_id) == GUEST:
                connection.joined[conversation_id] = PARTICIPANT
                await self.guests.release(conversation_key(app_id, conversation_id), connection.sid)

    def _of_user(self, app_id: str, user_id: str) -> list[Connection]:
        sids = list(self._by_user.get((app_id, user_id), ()))
        return [c for c in (self._by_sid.get(sid) for sid in sids) if c is not None]


def _discard(index: defaultdict[tuple[str, str], set[str]], key: tuple[str, str], sid: str) -> None:
    sids = index.get(key)
    if sids is not None:
        sids.discard(sid)
        if not sids:
            del index[key]
