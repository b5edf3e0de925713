"""`messages:list`: a page of history before a message (scrolling up) or after one (catching up)."""

from __future__ import annotations

import dataclasses
from typing import Any

from server.chat import access, lookup, messages, pages
from server.chat.context import ChatContext
from server.chat.errors import InvalidInput
from server.chat.guests import conversation_key
from server.chat.joining import other_senders
from server.chat.sessions import Session
from server.chat.validation import parse_id, parse_limit, require_object


@dataclasses.dataclass(frozen=True)
class PageRequest:
    conversation_id: str
    before_id: str | None
    after_id: str | None
    limit: int


def parse_page(data: Any) -> PageRequest:
    data = require_object(data, "messages:list")
    before, after = data.get("beforeMessageId"), data.get("afterMessageId")
    if (before is None) == (after is None):
        raise InvalidInput("messages:list takes exactly one of beforeMessageId and afterMessageId")
    return PageRequest(
        conversation_id=parse_id(data.get("conversationId"), "conversationId"),
        before_id=parse_id(before, "beforeMessageId") if before is not None else None,
        after_id=parse_id(after, "afterMessageId") if after is not None else None,
        limit=parse_limit(data.get("limit")),
    )


async def messages_page(ctx: ChatContext, session: Session, data: Any, member: str) -> dict[str, Any]:
    """Oldest first; for participants and for a guest holding a slot on this connection."""
    request = parse_page(data)
    is_guest = await ctx.guests.is_admitted(conversation_key(session.app_id, request.conversation_id), member)
    return await ctx.db.read(_page, session, request, is_guest)


def _page(session: Session, request: PageRequest, is_guest: bool) -> dict[str, Any]:
    conversation = lookup.find_conversation(session.app, request.conversation_id)
    participant = lookup.find_participant(conversation, session.user)
    access.require_reader(participant is not None or is_guest, request.conversation_id)
    limit = request.limit
    if request.before_id is not None:
        older = messages.latest_messages(conversation, limit + 1, messages.find_seq(conversation, request.before_id))
        page, cut = pages.keep_last(older[:limit][::-1])
        result: dict[str, Any] = {"messages": page, "hasOlder": len(older) > limit or cut}
    else:
        newer = messages.messages_after(conversation, messages.find_seq(conversation, request.after_id), limit + 1)
        page, cut = pages.keep_first(newer[:limit])
        result = {"messages": page, "hasNewer": len(newer) > limit or cut}
    members = [{"id": u.user_id} for _, u in lookup.participant_rows(conversation)]
    result["users"] = other_senders(conversation, members, page)
    return result
