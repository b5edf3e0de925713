"""Opening a conversation in a UI: as a participant, or as a guest, and reading its history."""

from __future__ import annotations

import dataclasses
from typing import Any

from server.chat import access, limits, lookup, messages, pages, serialize, unreads
from server.chat.context import ChatContext
from server.chat.errors import InvalidInput
from server.chat.guests import conversation_key, guest_limit_reached
from server.chat.live import GUEST, PARTICIPANT
from server.chat.sessions import Session
from server.chat.validation import parse_id, parse_limit, require_object
from server.db.models import App, Conversation, User



@dataclasses.dataclass(frozen=True)
class JoinRequest:
    conversation_id: str
    after_id: str | None
    limit: int
    as_guest: bool
    view: str


def parse_join(data: Any) -> JoinRequest:
    data = require_object(data, "conversation:join")
    after = data.get("afterMessageId")
    as_guest = data.get("asGuest", False)
    if not isinstance(as_guest, bool):
        raise InvalidInput("asGuest must be true or false")
    view = data.get("view", "chatbox")
    if view not in access.VIEWS:
        raise InvalidInput(f"view must be one of {', '.join(access.VIEWS)}")
    return JoinRequest(
        conversation_id=parse_id(data.get("conversationId"), "conversationId"),
        after_id=parse_id(after, "afterMessageId") if after is not None else None,
        limit=parse_limit(data.get("limit")),
        as_guest=as_guest,
        view=view,
    )


async def admit(ctx: ChatContext, session: Session, request: JoinRequest, member: str) -> str:
    """Decide how this connection (`member`) joins: PARTICIPANT or GUEST (holding a guest slot)."""
    app = await ctx.current_app(session.app_id)
    await ctx.limits.hit("joinsPerConnection", app.rate_limits, app.app_id, member)
    members = ctx.snapshots.members((session.app_id, request.conversation_id, request.limit))
    if members is None:
        role, guest_limit = await ctx.db.read(_role, app, session, request)
    else:  # a lobby's arriving guests: who the participants are is known without a query
        role, guest_limit = decide_role(app, session.user_id in members, request)
    if role == GUEST:
        key = conversation_key(session.app_id, request.conversation_id)
        if not await ctx.guests.admit(key, member, guest_limit):
            raise guest_limit_reached(request.conversation_id, guest_limit)
    return role


def _role(app: App, session: Session, request: JoinRequest) -> tuple[str, int]:
    conversation = lookup.find_conversation(app, request.conversation_id)
    return decide_role(app, lookup.find_participant(conversation, session.user) is not None, request)


def decide_role(app: App, is_participant: bool, request: JoinRequest) -> tuple[str, int]:
    """PARTICIPANT, or GUEST and the app's guest limit; refuses a join the rules do not allow."""
    if is_participant:
        return PARTICIPANT, 0  # asGuest has no effect for a participant
    if not request.as_guest:
        access.require_reader(False, request.conversation_id)
    access.require_guest_access(app.disallow_user_sync, app.disallow_conversation_sync, request.view)
    return GUEST, app.guest_limit


async def release(ctx: ChatContext, session: Session, conversation_id: str, member: str) -> None:
    await ctx.guests.release(conversation_key(session.app_id, conversation_id), member)


GUEST_ME = {"access": "ReadWrite", "notify": False, "role": GUEST}  # guests always have ReadWrite


async def load(ctx: ChatContext, session: Session, request: JoinRequest, role: str) -> dict[str, Any]:
    """What a UI needs to show the conversation, plus every message after `afterMessageId` if given.
    A guest's plain join is the same for every guest: it is read once per change (chat/snapshots.py)."""
    if role != GUEST or request.after_id is not None:
        loaded = await ctx.db.read(_load, session, request, role)
    else:
        key = (session.app_id, request.conversation_id, request.limit)
        loaded = ctx.snapshots.get(key)
        if loaded is None:
            read_at = ctx.snapshots.now()
            loaded = await ctx.db.read(_load, session, request, role)
            ctx.snapshots.put(key, read_at, loaded)
    if ctx.after_join_read is not None:
        await ctx.after_join_read(request.conversation_id)
    return loaded


def _load(session: Session, request: JoinRequest, role: str) -> dict[str, Any]:
    conversation = lookup.find_conversation(session.app, request.conversation_id)
    rows = lookup.participant_rows(conversation)
    me = next((p for p, u in rows if u.id == session.user.id), None)
    access.require_reader(me is not None or role == GUEST, request.conversation_id)
    latest = messages.latest_messages(conversation, request.limit + 1)  # one extra tells whether there is more
    page, cut = pages.keep_last(latest[: request.limit][::-1])
    members = [{**serialize.public_user_json(u), **serialize.participation_json(p)} for p, u in rows]
    participations = {u.user_id: serialize.participation_json(p) for p, u in rows}
    result: dict[str, Any] = {
        "conversation": serialize.conversation_json(conversation, participations, latest[0] if latest else None),
        "participants": members,
        "me": _me(me, role),
        "messages": page,
        "hasOlder": len(latest) > request.limit or cut,
    }
    if request.after_id is not None:
        result.update(_catch_up(conversation, request.after_id))
    result["users"] = other_senders(conversation, members, page + result.get("missed", []))
    return result


def _me(participant, role: str) -> dict[str, Any]:
    if participant is not None:
        unread = unreads.unread_count(participant)
        return {**serialize.participation_json(participant), "role": PARTICIPANT, "unreadMessageCount": unread}
    return GUEST_ME


def _catch_up(conversation: Conversation, after_id: str) -> dict[str, Any]:
    """One page of what came after the client's newest message; the rest with `messages:list`."""
    try:
        anchor = messages.find_seq(conversation, after_id)
    except InvalidInput:  # the client's last message was deleted meanwhile: it must start again
        return {"missed": [], "missedComplete": False, "resync": True}
    start = messages.catch_up_start(conversation, anchor)  # a little before the anchor (see CATCH_UP_OVERLAP_MS)
    missed = [m for m in messages.messages_after(conversation, start, limits.MAX_CATCH_UP + 2) if m["id"] != after_id]
    missed = missed[: limits.MAX_CATCH_UP + 1]
    page, cut = pages.keep_first(missed[: limits.MAX_CATCH_UP])
    return {"missed": page, "missedComplete": len(missed) <= limits.MAX_CATCH_UP and not cut, "resync": False}


def other_senders(conversation: Conversation, members: list[dict], page: list[dict]) -> dict[str, dict]:
    """Public data of senders who are not participants (guests, former members), to show their names."""
    known = {m["id"] for m in members}
    wanted = {m["senderId"] for m in page if m["senderId"] and m["senderId"] not in known}
    if not wanted:
        return {}
    users = User.select().where((User.app == conversation.app_id) & (User.user_id.in_(sorted(wanted))))
    return {u.user_id: serialize.public_user_json(u) for u in users}
