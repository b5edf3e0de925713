"""Synchronous lookups used inside database worker threads by the use-case modules.

They run the compiled hot-path queries of `server.db.queries`.
"""

from __future__ import annotations

from typing import Any, Protocol

from server.chat import access, serialize
from server.chat.errors import NotFound
from server.db import queries
from server.db.models import App, Conversation, Message, Participant, User


class Identified(Protocol):
    """A user row, or a session's `Me`: anything with the row's primary key."""

    id: int


def find_app(app_id: str) -> App:
    app = queries.APP.first(app_id=app_id)
    if app is None:
        raise NotFound(f"no app with id {app_id!r}", code="APP_NOT_FOUND")
    return app


def user_or_none(app: App, user_id: str) -> User | None:
    return queries.USER.first(app=app.id, user_id=user_id)


def find_user(app: App, user_id: str) -> User:
    user = user_or_none(app, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id!r}", code="USER_NOT_FOUND")
    return user


def conversation_or_none(app: App, conversation_id: str) -> Conversation | None:
    return queries.CONVERSATION.first(app=app.id, conversation_id=conversation_id)


def find_conversation(app: App, conversation_id: str) -> Conversation:
    conversation = conversation_or_none(app, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation with id {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    return conversation


def find_participant(conversation: Conversation, user: Identified) -> Participant | None:
    return queries.PARTICIPANT.first(conversation=conversation.id, user=user.id)


def find_message(conversation: Conversation, message_id: str) -> Message:
    message = queries.MESSAGE_BY_ID.first(conversation=conversation.id, message_id=message_id)
    if message is None:
        raise NotFound(f"no message with id {message_id!r} in this conversation", code="MESSAGE_NOT_FOUND")
    return message


def participant_rows(conversation: Conversation) -> list[tuple[Participant, User]]:
    """Each participation with its user, in the order they joined."""
    rows = []
    for user in queries.MEMBERS.rows(conversation=conversation.id):
        participant = Participant(
            id=user.p_id,
            conversation=conversation.id,
            user=user.id,
            access=user.p_access,
            notify=user.p_notify,
            last_read_seq=user.p_last_read_seq,
            joined_at=user.p_joined_at,
            last_activity_at=user.p_last_activity_at,
        )
        rows.append((participant, user))
    return rows


def participant_reads(conversation: Conversation) -> list[tuple[str, int]]:
    return queries.READS.tuples(conversation=conversation.id)


def messages_json(
    conversation: Conversation, messages: list[Message], reads: list[tuple[str, int]] | None = None
) -> list[dict[str, Any]]:
    """Messages (with `sender_uid`) in the public shape; `reads` (participant_reads) if already known."""
    if reads is None:
        reads = participant_reads(conversation) if messages else []
    return [
        serialize.message_json(
            m, conversation.conversation_id, m.sender_uid, access.read_by(m.seq, m.sender_uid, reads)
        )
        for m in messages
    ]


def last_message_json(conversation: Conversation, reads: list[tuple[str, int]] | None = None) -> dict[str, Any] | None:
    latest = queries.LATEST.rows(conversation=conversation.id, limit=1)
    return messages_json(conversation, latest, reads)[0] if latest else None


def conversation_view(conversation: Conversation, rows: list[tuple[Participant, User]] | None = None) -> dict[str, Any]:
    """The public conversation object; pass `rows` (participant_rows) if already loaded."""
    rows = participant_rows(conversation) if rows is None else rows
    participants = {u.user_id: serialize.participation_json(p) for p, u in rows}
    reads = [(u.user_id, p.last_read_seq) for p, u in rows]
    return serialize.conversation_json(conversation, participants, last_message_json(conversation, reads))
