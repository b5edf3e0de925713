"""Synchronous lookups used inside database worker threads by the use-case modules."""

from __future__ import annotations

from typing import Any

from peewee import JOIN

from server.chat import access, serialize
from server.chat.errors import NotFound
from server.db.models import App, Conversation, Message, Participant, User


def find_app(app_id: str) -> App:
    app = App.get_or_none(App.app_id == app_id)
    if app is None:
        raise NotFound(f"no app with id {app_id!r}", code="APP_NOT_FOUND")
    return app


def find_user(app: App, user_id: str) -> User:
    user = User.get_or_none((User.app == app.id) & (User.user_id == user_id))
    if user is None:
        raise NotFound(f"no user with id {user_id!r}", code="USER_NOT_FOUND")
    return user


def find_conversation(app: App, conversation_id: str) -> Conversation:
    conversation = Conversation.get_or_none(
        (Conversation.app == app.id) & (Conversation.conversation_id == conversation_id)
    )
    if conversation is None:
        raise NotFound(f"no conversation with id {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    return conversation


def find_participant(conversation: Conversation, user: User) -> Participant | None:
    return Participant.get_or_none((Participant.conversation == conversation.id) & (Participant.user == user.id))


def find_message(conversation: Conversation, message_id: str) -> Message:
    message = message_query(conversation).where(Message.message_id == message_id).first()
    if message is None:
        raise NotFound(f"no message with id {message_id!r} in this conversation", code="MESSAGE_NOT_FOUND")
    return message


def message_query(conversation: Conversation):
    """A conversation's messages, each with `sender_uid` (the sender's public id) attached."""
    return (
        Message.select(Message, User.user_id.alias("sender_uid"))
        .join(User, JOIN.LEFT_OUTER, on=(Message.sender == User.id))
        .where(Message.conversation == conversation.id)
        .objects()
    )


def participant_rows(conversation: Conversation) -> list[tuple[Participant, User]]:
    query = (
        Participant.select(Participant, User)
        .join(User)
        .where(Participant.conversation == conversation.id)
        .order_by(Participant.id)
    )
    return [(p, p.user) for p in query]


def participant_reads(conversation: Conversation) -> list[tuple[str, int]]:
    query = (
        Participant.select(User.user_id, Participant.last_read_seq)
        .join(User)
        .where(Participant.conversation == conversation.id)
        .order_by(Participant.id)
        .tuples()
    )
    return list(query)


def messages_json(conversation: Conversation, messages: list[Message]) -> list[dict[str, Any]]:
    reads = participant_reads(conversation) if messages else []
    return [
        serialize.message_json(
            m, conversation.conversation_id, m.sender_uid, access.read_by(m.seq, m.sender_uid, reads)
        )
        for m in messages
    ]


def last_message_json(conversation: Conversation) -> dict[str, Any] | None:
    latest = list(message_query(conversation).order_by(Message.seq.desc()).limit(1))
    return messages_json(conversation, latest)[0] if latest else None


def conversation_view(conversation: Conversation) -> dict[str, Any]:
    participants = {u.user_id: serialize.participation_json(p) for p, u in participant_rows(conversation)}
    return serialize.conversation_json(conversation, participants, last_message_json(conversation))
