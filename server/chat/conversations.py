"""Conversations: create or merge, read, list, delete."""

from __future__ import annotations

from typing import Any

from server.chat import access, events, ids, lookup, serialize, webhook_events
from server.chat.context import ChatContext
from server.chat.errors import InvalidInput
from server.chat.events import Event
from server.chat.validation import parse_conversation, parse_id, parse_limit
from server.db import queries
from server.db.models import App, Conversation, Message, Participant, User

JSON_LIST_FIELDS = ("welcome_messages",)


async def put_conversation(ctx: ChatContext, app: App, conversation_id: str, data: Any) -> dict[str, Any]:
    """REST `PUT /conversations/{id}`: merge attributes; `participants` adds, never removes."""
    conversation_id = parse_id(conversation_id, "conversationId")
    fields = parse_conversation(data)
    return await ctx.write(_put_conversation, app, conversation_id, fields)


def _put_conversation(app: App, conversation_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
    participant_ids = fields.pop("participants", [])
    conversation, created = get_or_create(app, conversation_id)
    changed = apply_attributes(conversation, fields)
    added = add_participants(app, conversation, [lookup.find_user(app, uid) for uid in participant_ids], {})
    view = lookup.conversation_view(conversation)
    emitted = [participant_added_event(app, conversation, p, u) for p, u in added]
    if changed and not created:
        emitted.insert(0, conversation_updated_event(app, view))
    if created:
        webhook_events.record(app.app_id, "conversation.created", {"conversation": view}, webhook_events.conversation_key(conversation_id))
    return {}, emitted


def member_ids(conversation: Conversation) -> tuple[str, ...]:
    return tuple(uid for uid, _ in lookup.participant_reads(conversation))


def get_or_create(app: App, conversation_id: str) -> tuple[Conversation, bool]:
    conversation = Conversation.get_or_none(
        (Conversation.app == app.id) & (Conversation.conversation_id == conversation_id)
    )
    if conversation is not None:
        return conversation, False
    conversation = Conversation.create(app=app.id, conversation_id=conversation_id, created_at=ids.now_ms())
    return conversation, True


def apply_attributes(conversation: Conversation, fields: dict[str, Any]) -> bool:
    """Set subject, photoUrl, welcomeMessages, custom; returns whether anything changed."""
    before = dict(conversation.__data__)
    serialize.store_fields(conversation, fields, JSON_LIST_FIELDS)
    if conversation.__data__ == before:
        return False
    conversation.save()
    return True


def add_participants(
    app: App, conversation: Conversation, users: list[User], settings: dict[str, str]
) -> list[tuple[Participant, User]]:
    """Add users not yet in the conversation (existing participations are left as they are)."""
    queries.lock_conversation(conversation.id)  # the participant limit holds under concurrent adds
    existing = {p.user_id for p in Participant.select(Participant.user).where(Participant.conversation == conversation.id)}
    new_users = [u for u in users if u.id not in existing]
    access.require_participant_room(len(existing), len(new_users), app.participant_limit, conversation.conversation_id)
    now = ids.now_ms()
    activity = conversation.last_message_at or conversation.created_at
    added = []
    for user in new_users:
        participant = Participant.create(
            conversation=conversation.id, user=user.id, joined_at=now, last_activity_at=activity, **settings
        )
        added.append((participant, user))
    return added


def participant_added_event(app: App, conversation: Conversation, participant: Participant, user: User) -> Event:
    data = {
        "conversationId": conversation.conversation_id,
        "user": serialize.public_user_json(user),
        **serialize.participation_json(participant),
    }
    return Event(events.PARTICIPANT_ADDED, app.app_id, conversation.conversation_id, data, user.user_id, (user.user_id,))


def participant_updated_event(app: App, conversation_id: str, user_id: str, participant: Participant) -> Event:
    data = {"conversationId": conversation_id, "userId": user_id, **serialize.participation_json(participant)}
    return Event(events.PARTICIPANT_UPDATED, app.app_id, conversation_id, data, user_id)


def update_participant(app: App, conversation_id: str, user_id: str, participant: Participant, settings: dict) -> list[Event]:
    """Change only the settings that differ; an event if anything did."""
    changes = {k: v for k, v in settings.items() if getattr(participant, k) != v}
    if not changes:
        return []
    Participant.update(**changes).where(Participant.id == participant.id).execute()
    for field, value in changes.items():
        setattr(participant, field, value)
    return [participant_updated_event(app, conversation_id, user_id, participant)]


def conversation_updated_event(app: App, view: dict[str, Any]) -> Event:
    # Participants' own rooms too: their inbox feeds show the subject and photo.
    return Event(events.CONVERSATION_UPDATED, app.app_id, view["id"], {"conversation": view}, users=tuple(view["participants"]))


async def get_conversation(ctx: ChatContext, app: App, conversation_id: str) -> dict[str, Any]:
    return await ctx.db.read(lambda: lookup.conversation_view(lookup.find_conversation(app, conversation_id)))


async def delete_conversation(ctx: ChatContext, app: App, conversation_id: str) -> dict[str, Any]:
    return await ctx.write(_delete_conversation, app, conversation_id)


def _delete_conversation(app: App, conversation_id: str) -> tuple[dict[str, Any], list[Event]]:
    conversation = lookup.find_conversation(app, conversation_id)
    members = member_ids(conversation)
    # explicit deletes keep this independent of the database's cascade support
    Message.delete().where(Message.conversation == conversation.id).execute()
    Participant.delete().where(Participant.conversation == conversation.id).execute()
    conversation.delete_instance()
    data = {"conversationId": conversation_id}
    return {}, [Event(events.CONVERSATION_DELETED, app.app_id, conversation_id, data, users=members)]


async def list_conversations(ctx: ChatContext, app: App, query: dict[str, Any]) -> dict[str, Any]:
    """`GET /conversations`: newest first, paged with `limit` and `startingAfter`."""
    limit = parse_limit(query.get("limit"))
    return await ctx.db.read(_list_conversations, app, limit, query.get("startingAfter") or None)


def _list_conversations(app: App, limit: int, starting_after: str | None) -> dict[str, Any]:
    query = Conversation.select().where(Conversation.app == app.id).order_by(Conversation.id.desc())
    if starting_after:
        cursor = Conversation.get_or_none(
            (Conversation.app == app.id) & (Conversation.conversation_id == starting_after)
        )
        if cursor is None:
            raise InvalidInput(f"startingAfter: no conversation with id {starting_after!r}")
        query = query.where(Conversation.id < cursor.id)
    return {"data": [lookup.conversation_view(c) for c in query.limit(limit)]}
