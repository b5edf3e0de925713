"""Who may do what: pure rules, no database. Every interface calls these same functions."""

from __future__ import annotations

from typing import Any

from server.chat.errors import Conflict, Forbidden, InvalidInput
from server.chat.validation import parse_id, require_object


def require_reader(is_participant: bool, conversation_id: str) -> None:
    """Only participants read a conversation (guests are admitted by their own rule)."""
    if not is_participant:
        raise Forbidden(
            f"you are not a participant of conversation {conversation_id!r}", code="NOT_A_PARTICIPANT"
        )


VIEWS = ("chatbox", "popup", "inbox")


def require_guest_view(view: str) -> None:
    """Only the Chatbox and the Popup take guests."""
    if view == "inbox":
        raise Forbidden(
            "the Inbox cannot open a conversation as a guest: use a Chatbox or a Popup for guest access",
            code="GUEST_NOT_ALLOWED_IN_INBOX",
        )


def require_guest_access(disallow_user_sync: bool, disallow_conversation_sync: bool, view: str) -> None:
    """Guests need both browser-sync settings allowed, and a view that takes guests."""
    require_guest_view(view)
    for disallowed, setting in (
        (disallow_user_sync, "Disallow user synchronization via the browser"),
        (disallow_conversation_sync, "Disallow conversation synchronization via the browser"),
    ):
        if disallowed:
            raise Forbidden(
                f'guest access needs browser synchronization, but this app has "{setting}" switched on',
                code="GUEST_ACCESS_DISALLOWED",
            )


def allowed_origins(setting: str) -> list[str]:
    return [o for o in setting.split(",") if o]


def require_allowed_origin(setting: str, origin: str | None) -> None:
    """With allowed origins set, only pages on those origins may embed the chat or connect.

    `origin` is the embedding page's origin (a browser's Origin header, or for Parley's own chat
    frames the page the frame says it is in, which frame-ancestors makes the browser enforce).
    No origin means no browser (a server-side client), which an Origin check cannot restrict.
    """
    allowed = allowed_origins(setting)
    if allowed and origin is not None and origin.rstrip("/") not in allowed:
        raise Forbidden(
            f"origin {origin!r} is not among this app's allowed origins; add it in the dashboard's Settings tab",
            code="ORIGIN_NOT_ALLOWED",
        )


def typing_event(role: str | None, data: Any, user_id: str) -> dict[str, Any] | None:
    """What a `typing` event from `user_id` tells the others, if anything.

    It needs a join (`role` is how the connection joined), and a guest's typing is never shown to
    anyone (guests still see others typing): for them the answer is None.
    """
    data = require_object(data, "typing")
    conversation_id = parse_id(data.get("conversationId"), "conversationId")
    if role is None:
        raise InvalidInput("join the conversation before sending typing events", code="NOT_JOINED")
    is_typing = data.get("isTyping")
    if not isinstance(is_typing, bool):
        raise InvalidInput("isTyping must be true or false")
    if role == "guest":
        return None
    return {"conversationId": conversation_id, "userId": user_id, "isTyping": is_typing}


def require_sender(access: str | None, user_id: str, conversation_id: str, is_guest: bool = False) -> None:
    """A message needs a sender with ReadWrite access (guests always have it); Read participants only read."""
    if access is None and is_guest:
        return
    if access is None:
        raise Forbidden(
            f"user {user_id!r} is not a participant of conversation {conversation_id!r}",
            code="SENDER_NOT_PARTICIPANT",
        )
    if access != "ReadWrite":
        raise Forbidden(
            f"user {user_id!r} has Read access to conversation {conversation_id!r} and cannot send",
            code="READ_ONLY_ACCESS",
        )


def require_participant_room(current: int, adding: int, limit: int, conversation_id: str) -> None:
    """Adding participants must not take a conversation over its app's participant limit."""
    if adding and current + adding > limit:
        raise Conflict(
            f"conversation {conversation_id!r} would have {current + adding} participants; "
            f"this app allows {limit} per conversation",
            code="PARTICIPANT_LIMIT_REACHED",
        )


def read_by(message_seq: int, sender_id: str | None, reads: list[tuple[str, int]]) -> list[str]:
    """Participants (not the sender) whose read marker is at or past a message."""
    return [uid for uid, last_read in reads if last_read >= message_seq and uid != sender_id]
