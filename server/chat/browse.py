"""What the dashboard shows of an app: users and conversations (searchable, paginated), one
conversation's participants and recent messages, and live figures."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from server.chat import lookup, serialize
from server.chat.context import ChatContext
from server.chat.validation import parse_integer
from server.chat.errors import Unavailable
from server.chat.guests import conversation_key
from server.db import queries
from server.db.models import App, Conversation, User

PAGE_SIZE = 25
MAX_QUERY = 200
MAX_PAGE = 1_000_000


def parse_page(raw: Any) -> int:
    return 1 if raw in (None, "") else parse_integer(raw, "page", 1, MAX_PAGE)


async def users(ctx: ChatContext, app: App, search: str, page: int) -> dict[str, Any]:
    return await ctx.db.read(_search, User, (User.user_id, User.name), serialize.user_json, app, search, page)


async def conversations(ctx: ChatContext, app: App, search: str, page: int) -> dict[str, Any]:
    fields = (Conversation.conversation_id, Conversation.subject)
    return await ctx.db.read(_search, Conversation, fields, lookup.conversation_view, app, search, page)


def _search(model, fields, shape, app: App, search: str, page: int) -> dict[str, Any]:
    """One page of an app's rows, newest first, whose `fields` contain `search` (case-insensitively)."""
    query = model.select().where(model.app == app.id)
    if search:
        query = query.where(reduce(operator.or_, (field.contains(search[:MAX_QUERY]) for field in fields)))
    # one more than a page tells whether there is a next one; pages start at whole multiples of PAGE_SIZE
    rows = list(query.order_by(model.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    return {"items": [shape(row) for row in rows[:PAGE_SIZE]], "page": page, "hasMore": len(rows) > PAGE_SIZE}


async def conversation(ctx: ChatContext, app: App, conversation_id: str) -> dict[str, Any]:
    data = await ctx.db.read(_conversation, app, conversation_id)
    try:
        data["guestsOnline"] = await ctx.guests.count(conversation_key(app.app_id, conversation_id))
    except Unavailable:  # the page still shows everything stored
        data["guestsOnline"] = "not known right now"
    return data


def _conversation(app: App, conversation_id: str) -> dict[str, Any]:
    found = lookup.find_conversation(app, conversation_id)
    rows = lookup.participant_rows(found)
    recent = lookup.messages_json(found, queries.LATEST.rows(conversation=found.id, limit=50))
    members = [{**serialize.user_json(u), **serialize.participation_json(p)} for p, u in rows]
    return {"conversation": lookup.conversation_view(found, rows), "participants": members, "messages": recent[::-1]}


async def live(ctx: ChatContext, app: App) -> dict[str, Any]:
    """Connected sessions of this app and guests online per conversation (over every process)."""
    guests = await ctx.guests.counts(app.app_id)
    return {"connections": await ctx.presence.connections(app.app_id), "guests": dict(sorted(guests.items()))}
