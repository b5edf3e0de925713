"""Socket.IO events -> `server.chat` use cases, and chat events -> Socket.IO rooms.

Handlers parse, call and shape the answer; they hold no rules. Every client event takes an
acknowledgement callback and answers with the result or `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from server.chat import access, events, feed, history, joining, messages, notify_rules, sessions, sync
from server.chat.context import ChatContext
from server.chat.errors import ChatError, InvalidInput
from server.chat.events import Event
from server.chat.live import PARTICIPANT, Connection
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
    "conversation:view",
    "feed:list",
    "unreads:list",
)


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
        self.live = chat.live
        self.live.leave_room = self._leave_room
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        for name in CLIENT_EVENTS:
            sio.on(name, self._guarded(getattr(self, "on_" + name.replace(":", "_"))))
        sio.on("*", self.unknown_event)
        chat.events.subscribe(self.forward)

    async def connect(self, sid: str, environ: dict, auth: Any) -> None:
        if self.live.get(sid) is not None:  # a socket's identity is set once, for its lifetime
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
        self.live.open(sid, session)
        await self.sio.enter_room(sid, user_room(session.app_id, session.user_id))

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        """Also for dropped connections: every guest slot this connection held is freed."""
        await self.live.close(sid)

    def _guarded(self, handler: Callable[[Connection, str, Any], Awaitable[Any]]):
        """Answer every event: the handler's result, or its error as `{"error": ...}`."""

        async def event(sid: str, *args: Any) -> Any:
            connection = self.live.get(sid)
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
        if not connection.open:  # dropped while being admitted: give the slot back
            await joining.release(self.chat, session, conversation_id, sid)
            return {"error": {"code": "NOT_CONNECTED", "message": "the connection closed while joining"}}
        was_joined = was_joined and conversation_id in connection.joined  # a removal may have run meanwhile
        if was_joined and connection.joined[conversation_id] != role:
            await self.live.leave(connection, conversation_id)  # e.g. a guest who became a participant
            was_joined = False
        await self.sio.enter_room(sid, conversation_room(session.app_id, conversation_id))
        if not connection.open:  # closed while entering: nothing of this join may stay behind
            await joining.release(self.chat, session, conversation_id, sid)
            return {"error": {"code": "NOT_CONNECTED", "message": "the connection closed while joining"}}
        self.live.joined(connection, conversation_id, role)
        try:
            return await joining.load(self.chat, session, request, role)
        except Exception:
            if not was_joined:
                await self.live.leave(connection, conversation_id)
            raise

    async def on_conversation_leave(self, connection: Connection, sid: str, data: Any) -> Any:
        conversation_id = parse_id(require_object(data, "leave").get("conversationId"), "conversationId")
        await self.live.leave(connection, conversation_id)
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
            typing = Event(events.TYPING, session.app_id, payload["conversationId"], payload, session.user_id, skip=sid)
            await self.chat.events.publish([typing])
            if payload["isTyping"]:  # the conversation is not quiet: notifications of it wait
                await notify_rules.typing_started(self.chat, session.app_id, payload["conversationId"])
        return {}

    async def on_conversation_read(self, connection: Connection, sid: str, data: Any) -> Any:
        data = require_object(data, "read")
        conversation_id = parse_id(data.get("conversationId"), "conversationId")
        message_id = parse_id(data.get("messageId"), "messageId")
        session = connection.session
        return await messages.mark_read(self.chat, session.app, conversation_id, session.user, message_id, sid)

    async def on_conversation_view(self, connection: Connection, sid: str, data: Any) -> Any:
        """Which conversation this connection shows in a visible, focused UI (null: none): its viewers
        are not notified of its messages. Guests are never notified, so only participants count."""
        raw = require_object(data, "view").get("conversationId")
        conversation_id = None if raw is None else parse_id(raw, "conversationId")
        role = connection.joined.get(conversation_id) if conversation_id is not None else None
        if conversation_id is not None and role is None:
            raise InvalidInput(f"join conversation {conversation_id!r} before viewing it", code="NOT_JOINED")
        self.live.view(connection, conversation_id if role == PARTICIPANT else None)
        return {"viewing": conversation_id if role == PARTICIPANT else None}

    async def on_feed_list(self, connection: Connection, sid: str, data: Any) -> Any:
        return await feed.feed(self.chat, connection.session, data)

    async def on_unreads_list(self, connection: Connection, sid: str, data: Any) -> Any:
        return await feed.unread_conversations(self.chat, connection.session)

    async def forward(self, event: Event) -> None:
        """A change -> everyone in its conversation's room, and the users it names, once each; then
        what it does to this process's connections (a removed participant hears of it first)."""
        room = conversation_room(event.app_id, event.conversation_id)
        rooms = [room, *(user_room(event.app_id, uid) for uid in event.users)]
        await self.sio.emit(event.name, event.data, room=rooms if event.users else room, skip_sid=event.skip)
        await self.live.apply(event)
        if event.name == events.CONVERSATION_DELETED:
            await self.sio.close_room(room)

    async def _leave_room(self, sid: str, app_id: str, conversation_id: str) -> None:
        await self.sio.leave_room(sid, conversation_room(app_id, conversation_id))
