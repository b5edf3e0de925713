"""Socket.IO events -> `server.chat` use cases, and chat events -> Socket.IO rooms.

Handlers parse, call and shape the answer; they hold no rules. Every client event takes an
acknowledgement callback and answers with the result or `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import urlsplit
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from server.chat import access, events, feed, history, joining, messages, sessions, sync
from server.chat.context import ChatContext
from server.chat.errors import ChatError
from server.chat.events import Event
from server.chat.sessions import Session
from server.chat.validation import parse_id, require_object
from server.realtime.rooms import conversation_room, user_room

log = logging.getLogger(__name__)

# Events clients send (documented in docs/protocol.md; a test keeps the two in step).
CLIENT_EVENTS = (
    "conversation:sync",
    "conversation:join",
    "conversation:leave",
    "messages:list",
    "message:send",
    "typing",
    "conversation:read",
    "feed:list",
    "unreads:list",
)


@dataclasses.dataclass
class Connection:
    session: Session
    joined: dict[str, str] = dataclasses.field(default_factory=dict)  # conversation id -> role


def embedding_origin(environ: dict, auth: Any) -> str | None:
    """The origin of the page this connection serves: the browser's Origin header, or, for Parley's
    own chat frames (same origin as this server), the embedding page's origin they pass in `auth`
    (the browser enforces it for frames through frame-ancestors)."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return None
    if urlsplit(origin).netloc == environ.get("HTTP_HOST"):
        embedded = auth.get("origin") if isinstance(auth, dict) else None
        return embedded if isinstance(embedded, str) else origin  # undeclared: judged as Parley's own page
    return origin


def _error(error: ChatError) -> dict[str, Any]:
    """`{"error": {"code", "message", ...}}`: also `retryAfter` when rate limited."""
    details = error.as_dict()
    return {"error": {"code": details.pop("errorCode"), **details}}


class RealtimeHandlers:
    def __init__(self, sio: socketio.AsyncServer, chat: ChatContext) -> None:
        self.sio = sio
        self.chat = chat
        self.connections: dict[str, Connection] = {}
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        for name in CLIENT_EVENTS:
            sio.on(name, self._guarded(getattr(self, "on_" + name.replace(":", "_"))))
        sio.on("*", self.unknown_event)
        chat.events.subscribe(self.forward)

    async def connect(self, sid: str, environ: dict, auth: Any) -> None:
        if sid in self.connections:  # a socket's identity is set once, for its lifetime
            raise socketio.exceptions.ConnectionRefusedError("this connection already has a session", {"code": "ALREADY_CONNECTED"})
        try:
            address = environ.get("REMOTE_ADDR", "unknown")
            session = await sessions.open_session(self.chat, auth, embedding_origin(environ, auth), address)
        except ChatError as error:
            details = {k: v for k, v in _error(error)["error"].items() if k != "message"}
            raise socketio.exceptions.ConnectionRefusedError(error.message, details) from None
        except Exception:
            log.exception("connect failed")
            refusal = {"code": "INTERNAL_ERROR"}
            raise socketio.exceptions.ConnectionRefusedError("the server failed to open this session", refusal) from None
        self.connections[sid] = Connection(session)
        self.chat.connections[session.app_id] += 1
        await self.sio.enter_room(sid, user_room(session.app_id, session.user_id))

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        """Also for dropped connections: every guest slot this connection held is freed."""
        connection = self.connections.pop(sid, None)
        if connection is not None:
            self.chat.connections[connection.session.app_id] -= 1
            for conversation_id in list(connection.joined):
                await self._leave(sid, connection, conversation_id)

    def _guarded(self, handler: Callable[[Connection, str, Any], Awaitable[Any]]):
        """Answer every event: the handler's result, or its error as `{"error": ...}`."""

        async def event(sid: str, *args: Any) -> Any:
            connection = self.connections.get(sid)
            if connection is None:
                return {"error": {"code": "NOT_CONNECTED", "message": "this connection has no session"}}
            if len(args) > 1:
                return {"error": {"code": "INVALID_ARGUMENT", "message": f"an event takes one payload object, got {len(args)}"}}
            try:
                return await handler(connection, sid, args[0] if args else None)
            except ChatError as error:
                return _error(error)
            except Exception:
                log.exception("realtime handler failed")
                return {"error": {"code": "INTERNAL_ERROR", "message": "the server failed to handle this event"}}

        return event

    async def unknown_event(self, event: str, sid: str, *args: Any) -> Any:
        return {"error": {"code": "UNKNOWN_EVENT", "message": f"there is no event {event[:100]!r}; see docs/protocol.md"}}

    async def on_conversation_sync(self, connection: Connection, sid: str, data: Any) -> Any:
        return await sync.sync_conversation(self.chat, connection.session, data)

    async def on_conversation_join(self, connection: Connection, sid: str, data: Any) -> Any:
        request = joining.parse_join(data)
        conversation_id, session = request.conversation_id, connection.session
        was_joined = conversation_id in connection.joined
        # Admit first (participant, or guest holding a slot): a socket enters a room only once it may
        # read there. Then enter before reading, so nothing sent in between is missed.
        role = await joining.admit(self.chat, session, request, sid)
        if self.connections.get(sid) is not connection:  # dropped while being admitted: give the slot back
            await joining.release(self.chat, session, conversation_id, sid)
            return {"error": {"code": "NOT_CONNECTED", "message": "the connection closed while joining"}}
        if was_joined and connection.joined[conversation_id] != role:
            await self._leave(sid, connection, conversation_id)  # e.g. a guest who became a participant
            was_joined = False
        await self.sio.enter_room(sid, conversation_room(session.app_id, conversation_id))
        connection.joined[conversation_id] = role
        try:
            return await joining.load(self.chat, session, request, role)
        except Exception:
            if not was_joined:
                await self._leave(sid, connection, conversation_id)
            raise

    async def on_conversation_leave(self, connection: Connection, sid: str, data: Any) -> Any:
        conversation_id = parse_id(require_object(data, "leave").get("conversationId"), "conversationId")
        await self._leave(sid, connection, conversation_id)
        return {}

    async def on_messages_list(self, connection: Connection, sid: str, data: Any) -> Any:
        return await history.messages_page(self.chat, connection.session, data, sid)

    async def on_message_send(self, connection: Connection, sid: str, data: Any) -> Any:
        conversation_id, message = sessions.parse_client_message(data)
        message["sender"] = connection.session.user_id
        stored = await messages.send_message(self.chat, connection.session, conversation_id, message, sid)
        return {"message": stored}

    async def on_typing(self, connection: Connection, sid: str, data: Any) -> Any:
        conversation_id = data.get("conversationId") if isinstance(data, dict) else None
        role = connection.joined.get(conversation_id) if isinstance(conversation_id, str) else None
        session = connection.session
        payload = access.typing_event(role, data, session.user_id)
        if payload is None:
            return {}
        key = (session.app_id, payload["conversationId"], session.user_id)
        if self.chat.typing.should_forward(key, payload["isTyping"]):
            room = conversation_room(session.app_id, payload["conversationId"])
            await self.sio.emit(events.TYPING, payload, room=room, skip_sid=sid)
        return {}

    async def on_conversation_read(self, connection: Connection, sid: str, data: Any) -> Any:
        data = require_object(data, "read")
        conversation_id = parse_id(data.get("conversationId"), "conversationId")
        message_id = parse_id(data.get("messageId"), "messageId")
        session = connection.session
        return await messages.mark_read(self.chat, session.app, conversation_id, session.user, message_id, sid)

    async def on_feed_list(self, connection: Connection, sid: str, data: Any) -> Any:
        return await feed.feed(self.chat, connection.session, data)

    async def on_unreads_list(self, connection: Connection, sid: str, data: Any) -> Any:
        return await feed.unread_conversations(self.chat, connection.session)

    async def forward(self, event: Event) -> None:
        """A committed change -> everyone in its conversation's room, and the users it names, once each."""
        room = conversation_room(event.app_id, event.conversation_id)
        rooms = [room, *(user_room(event.app_id, uid) for uid in event.users)]
        await self.sio.emit(event.name, event.data, room=rooms if event.users else room)
        if event.name == events.PARTICIPANT_ADDED and event.user_id is not None:
            await self._promote_guests(event.app_id, event.user_id, event.conversation_id)
        elif event.name == events.PARTICIPANT_REMOVED and event.user_id is not None:
            await self._remove_user(event.app_id, event.user_id, event.conversation_id)
        elif event.name == events.CONVERSATION_DELETED:
            await self._close(event.app_id, event.conversation_id)

    async def _promote_guests(self, app_id: str, user_id: str, conversation_id: str) -> None:
        """A guest who became a participant is one now on every connection: their guest slot frees."""
        for sid, connection in list(self.connections.items()):
            session = connection.session
            if session.app_id == app_id and session.user_id == user_id and connection.joined.get(conversation_id) == joining.GUEST:
                connection.joined[conversation_id] = joining.PARTICIPANT
                await joining.release(self.chat, session, conversation_id, sid)

    async def _remove_user(self, app_id: str, user_id: str, conversation_id: str) -> None:
        for sid, connection in list(self.connections.items()):
            session = connection.session
            joined_as = connection.joined.get(conversation_id)
            if session.app_id == app_id and session.user_id == user_id and joined_as == joining.PARTICIPANT:
                await self._leave(sid, connection, conversation_id)

    async def _close(self, app_id: str, conversation_id: str) -> None:
        for sid, connection in list(self.connections.items()):
            if connection.session.app_id == app_id and conversation_id in connection.joined:
                await self._leave(sid, connection, conversation_id)
        await joining.drop_guests(self.chat, app_id, conversation_id)  # also slots held on other nodes
        await self.sio.close_room(conversation_room(app_id, conversation_id))

    async def _leave(self, sid: str, connection: Connection, conversation_id: str) -> None:
        role = connection.joined.pop(conversation_id, None)
        if role == joining.GUEST:
            await joining.release(self.chat, connection.session, conversation_id, sid)
        await self.sio.leave_room(sid, conversation_room(connection.session.app_id, conversation_id))
