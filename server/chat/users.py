"""Users: create or update (REST and browser sync), read, and a user's conversation feed."""

from __future__ import annotations

from typing import Any

from server.chat import ids, lookup, serialize, unreads, webhook_events
from server.chat.context import ChatContext
from server.chat.errors import InvalidInput
from server.chat.validation import parse_id, parse_limit, parse_timestamp, parse_user
from server.db import queries
from server.db.models import App, Conversation, Participant, User

JSON_LIST_FIELDS = ("email", "phone")


async def put_user(ctx: ChatContext, app: App, user_id: str, data: Any) -> dict[str, Any]:
    """REST `PUT /users/{id}`: only the fields sent change; `name` is required to create."""
    user_id = parse_id(user_id, "userId")
    fields = parse_user(data, user_id)
    return await ctx.write(_put_user, app, user_id, fields)


def _put_user(app: App, user_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list]:
    return serialize.user_json(upsert_user(app, user_id, fields)), []


def upsert_user(app: App, user_id: str, fields: dict[str, Any]) -> User:
    """Apply parsed user fields (see `parse_user`) to a stored user, creating it if needed."""
    user = lookup.user_or_none(app, user_id)
    if user is not None:
        before = dict(user.__data__)
        serialize.store_fields(user, fields, JSON_LIST_FIELDS)
        user.save()
        if user.__data__ != before and webhook_events.wanted(app.app_id, "user.updated"):
            webhook_events.record(app.app_id, "user.updated", {"user": serialize.user_json(user)}, webhook_events.user_key(user_id))
        return user
    if not fields.get("name"):
        raise InvalidInput(f"user {user_id!r} does not exist yet; name is required to create it")
    user = User(app=app.id, user_id=user_id, created_at=ids.now_ms())
    serialize.store_fields(user, fields, JSON_LIST_FIELDS)
    # A compiled INSERT: on a lobby's busiest moment every arriving guest is a new user (db/compiled.py).
    user.id = queries.INSERT_USER.insert(**{column: user.__data__.get(column) for column in queries.USER_COLUMNS})
    user.__data__["app"] = app.id
    if webhook_events.wanted(app.app_id, "user.created"):
        webhook_events.record(app.app_id, "user.created", {"user": serialize.user_json(user)}, webhook_events.user_key(user_id))
    return user


async def get_user(ctx: ChatContext, app: App, user_id: str) -> dict[str, Any]:
    return await ctx.db.read(lambda: serialize.user_json(lookup.find_user(app, user_id)))


async def list_user_conversations(ctx: ChatContext, app: App, user_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """`GET /users/{id}/conversations`: participant conversations, newest activity first."""
    page = {
        "limit": parse_limit(query.get("limit")),
        "starting_after": query.get("startingAfter") or None,
        "after": parse_timestamp(query.get("lastMessageAfter"), "lastMessageAfter"),
        "before": parse_timestamp(query.get("lastMessageBefore"), "lastMessageBefore"),
        "unreads_only": str(query.get("unreadsOnly", "")).lower() == "true",
    }
    return await ctx.db.read(_list_user_conversations, app, user_id, page)


def _list_user_conversations(app: App, user_id: str, page: dict[str, Any]) -> dict[str, Any]:
    user = lookup.find_user(app, user_id)
    query = (
        Participant.select(Participant, Conversation)
        .join(Conversation)
        .where(Participant.user == user.id)
        .order_by(Participant.last_activity_at.desc(), Participant.id.desc())
    )
    if page["starting_after"]:
        cursor = Participant.get_or_none(
            (Participant.user == user.id)
            & (Participant.conversation == _conversation_pk(app, page["starting_after"]))
        )
        if cursor is None:
            raise InvalidInput("startingAfter names a conversation this user is not in")
        query = query.where(
            (Participant.last_activity_at < cursor.last_activity_at)
            | ((Participant.last_activity_at == cursor.last_activity_at) & (Participant.id < cursor.id))
        )
    if page["after"] is not None:
        query = query.where(Conversation.last_message_at > page["after"])
    if page["before"] is not None:
        query = query.where(Conversation.last_message_at < page["before"])
    return {"data": _feed_items(query, page)}


def _conversation_pk(app: App, conversation_id: str) -> int | None:
    row = Conversation.get_or_none((Conversation.app == app.id) & (Conversation.conversation_id == conversation_id))
    return row.id if row else None


def _feed_items(query, page: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    # unreadsOnly filters after counting, so read a page at a time until this one is full
    for participant in query.iterator():
        item = _feed_item(participant)
        if page["unreads_only"] and not item["isUnread"]:
            continue
        items.append(item)
        if len(items) == page["limit"]:
            break
    return items


def _feed_item(participant: Participant) -> dict[str, Any]:
    conversation = participant.conversation
    unread = unreads.unread_count(participant)
    return {
        **lookup.conversation_view(conversation),
        **serialize.participation_json(participant),
        "isUnread": unread > 0,
        "unreadMessageCount": unread,
    }
