"""A participant's own view across conversations: the Inbox feed and unread counts.

Guests have neither: both come from stored participations only, so a conversation opened as a
guest never appears here.
"""

from __future__ import annotations

from typing import Any

from server.chat import limits, lookup, pages, serialize, unreads
from server.chat.context import ChatContext
from server.chat.sessions import Session
from server.chat.validation import parse_limit, require_object
from server.db.models import Conversation, Participant

FEED_SIZE = limits.MAX_PAGE_SIZE


async def feed(ctx: ChatContext, session: Session, data: Any) -> dict[str, Any]:
    """The Inbox feed: participant conversations with at least one message, newest activity first."""
    raw = require_object(data if data is not None else {}, "feed:list").get("limit")
    limit = FEED_SIZE if raw is None else parse_limit(raw)
    return await ctx.db.read(_feed, session, limit)


def _participations(session: Session):
    return (
        Participant.select(Participant, Conversation)
        .join(Conversation)
        .where((Participant.user == session.user.id) & Conversation.last_message_at.is_null(False))
        .order_by(Participant.last_activity_at.desc(), Participant.id.desc())
    )


def _feed(session: Session, limit: int) -> dict[str, Any]:
    found = [_item(participant) for participant in _participations(session).limit(limit)]
    items, cut = pages.keep_first([item for item, _ in found])
    users: dict[str, Any] = {}
    for _, members in found[: len(items)]:
        users.update(members)
    return {"conversations": items, "users": users, "truncated": cut}


def _item(participant: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    conversation = participant.conversation
    rows = lookup.participant_rows(conversation)
    unread = unreads.unread_count(participant)
    item = {
        **lookup.conversation_view(conversation, rows),
        **serialize.participation_json(participant),
        "isUnread": unread > 0,
        "unreadMessageCount": unread,
    }
    return item, {u.user_id: serialize.public_user_json(u) for _, u in rows}


async def unread_conversations(ctx: ChatContext, session: Session) -> dict[str, Any]:
    """`session.unreads`: every participant conversation with unread messages."""
    return await ctx.db.read(_unreads, session)


def _unreads(session: Session) -> dict[str, Any]:
    found = []
    for participant in _participations(session).limit(limits.MAX_UNREAD_CONVERSATIONS):
        count = unreads.unread_count(participant)
        if count:
            view = lookup.conversation_view(participant.conversation)
            found.append({"conversation": view, "lastMessage": view["lastMessage"], "unreadMessageCount": count})
    kept, cut = pages.keep_first(found)
    return {"unreads": kept, "truncated": cut}
