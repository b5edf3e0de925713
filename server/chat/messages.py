"""Messages: send (idempotent), list, read one, edit, delete, and read markers."""

from __future__ import annotations

import functools
from typing import Any

from server.chat import access, events, ids, lookup, notify_rules, serialize
from server.chat.context import ChatContext
from server.chat.errors import InvalidInput
from server.chat.events import Event
from server.chat.guests import conversation_key
from server.chat.sessions import Me, Session
from server.chat.validation import merge_custom, parse_limit, parse_message_batch, parse_message_edit
from server.db import queries
from server.db.models import App, Conversation, Message, Participant, User


async def post_messages(ctx: ChatContext, app: App, conversation_id: str, data: Any) -> list[dict[str, Any]]:
    """REST `POST /conversations/{id}/messages`: up to 10 messages, all stored or none."""
    batch = parse_message_batch(data)
    audience = await notify_rules.audience(ctx, app.app_id, conversation_id, batch)
    return await ctx.write(functools.partial(send_batch, app, conversation_id, batch, "rest", audience=audience))


async def send_message(
    ctx: ChatContext, session: Session, conversation_id: str, message: dict[str, Any], member: str
) -> dict[str, Any]:
    """One parsed message from a connected client (`member`, which may hold a guest slot); after commit.
    Rate limited per connection and per user, by the app's settings as they are now."""
    app = await ctx.current_app(session.app_id)
    await ctx.limits.hit("messagesPerConnection", app.rate_limits, app.app_id, member)
    await ctx.limits.hit("messagesPerUser", app.rate_limits, app.app_id, session.user_id)
    is_guest = await ctx.guests.is_admitted(conversation_key(app.app_id, conversation_id), member)
    audience = await notify_rules.audience(ctx, app.app_id, conversation_id, [message])
    send = functools.partial(send_batch, app, conversation_id, [message], "web", is_guest=is_guest, audience=audience)
    [stored] = await ctx.write(send)
    return stored


def send_batch(
    app: App,
    conversation_id: str,
    batch: list[dict[str, Any]],
    origin: str,
    *,
    is_guest: bool = False,
    audience: notify_rules.Audience = notify_rules.Audience(channels=()),
):
    conversation = lookup.find_conversation(app, conversation_id)
    queries.lock_conversation(conversation.id)  # seq in commit order; idempotency checks see concurrent sends
    stored: list[Message] = []
    new: dict[int, tuple[User | None, str | None]] = {}  # seq -> (sender, idempotency key) of new messages
    for item in batch:
        sender = _sender(app, conversation, item, is_guest)
        earlier = _by_idempotency_key(conversation, sender, item["idempotency_key"])
        if earlier is not None:
            stored.append(earlier)
            continue
        seq, created_at = _store_one(conversation, sender, item, origin)
        new[seq] = (sender, item["idempotency_key"])
        if sender is not None and audience.channels:  # UserMessages only: system messages have no sender
            notify_rules.gather(app, conversation, seq, sender, item["text"], audience)
        stored.append(queries.MESSAGE_BY_SEQ.first(seq=seq))
    if new:
        _record_activity(conversation, created_at)
    reads = lookup.participant_reads(conversation)
    result = lookup.messages_json(conversation, stored, reads)
    members = tuple(uid for uid, _ in reads)
    return result, [
        _new_message_event(app, conversation_id, m, *new[s.seq], members) for m, s in zip(result, stored) if s.seq in new
    ]


def _new_message_event(
    app: App, conversation_id: str, message: dict, sender: User | None, key: str | None, members: tuple[str, ...]
) -> Event:
    # The idempotency key rides along so the sending client can match its pending copy; the
    # sender's public data so that clients can name senders who are not members (guests).
    data = {"message": message, "idempotencyKey": key, "sender": serialize.public_user_json(sender) if sender else None}
    return Event(events.MESSAGE_NEW, app.app_id, conversation_id, data, message["senderId"], members)


def _store_one(conversation: Conversation, sender: User | None, item: dict[str, Any], origin: str) -> tuple[int, int]:
    if item["referenced_message_id"] is not None:
        lookup.find_message(conversation, item["referenced_message_id"])
    created_at = ids.now_ms()
    seq = queries.INSERT_MESSAGE.insert(
        message_id=ids.new_message_id(),
        conversation=conversation.id,
        sender=sender.id if sender else None,
        type=item["type"],
        text=item["text"],
        custom=serialize.dumps(item["custom"]),
        origin=origin,
        created_at=created_at,
        referenced_message_id=item["referenced_message_id"],
        idempotency_key=item["idempotency_key"],
    )
    if sender is not None:  # your own message is read by you
        queries.READ_UP_TO.execute(seq=seq, conversation=conversation.id, user=sender.id)
    return seq, created_at


def _sender(app: App, conversation: Conversation, item: dict[str, Any], is_guest: bool) -> User | None:
    if item["type"] == "SystemMessage":
        return None
    user = lookup.user_or_none(app, item["sender"])
    participant = lookup.find_participant(conversation, user) if user else None
    cid = conversation.conversation_id
    access.require_sender(participant.access if participant else None, item["sender"], cid, is_guest and user is not None)
    return user


def _by_idempotency_key(conversation: Conversation, sender: User | None, key: str | None) -> Message | None:
    if key is None:
        return None
    if sender is None:
        earlier = queries.SYSTEM_BY_IDEMPOTENCY_KEY.first(conversation=conversation.id, key=key)
    else:
        earlier = queries.BY_IDEMPOTENCY_KEY.first(conversation=conversation.id, sender=sender.id, key=key)
    return queries.MESSAGE_BY_SEQ.first(seq=earlier.seq) if earlier else None


def _record_activity(conversation: Conversation, at: int) -> None:
    queries.CONVERSATION_ACTIVITY.execute(at=at, conversation=conversation.id)
    queries.PARTICIPANTS_ACTIVITY.execute(at=at, conversation=conversation.id)


async def list_messages(ctx: ChatContext, app: App, conversation_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """REST `GET .../messages`: newest first; `startingAfter` continues with older messages."""
    limit = parse_limit(query.get("limit"))
    return await ctx.db.read(_list_messages, app, conversation_id, limit, query.get("startingAfter") or None)


def _list_messages(app: App, conversation_id: str, limit: int, starting_after: str | None) -> dict[str, Any]:
    conversation = lookup.find_conversation(app, conversation_id)
    before = find_seq(conversation, starting_after) if starting_after else None
    return {"data": latest_messages(conversation, limit, before)}


def latest_messages(conversation: Conversation, limit: int, before_seq: int | None = None) -> list[dict[str, Any]]:
    """The newest `limit` messages (older than `before_seq` if given), newest first."""
    if before_seq is None:
        rows = queries.LATEST.rows(conversation=conversation.id, limit=limit)
    else:
        rows = queries.LATEST_BEFORE.rows(conversation=conversation.id, before=before_seq, limit=limit)
    return lookup.messages_json(conversation, rows)


def messages_after(conversation: Conversation, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """Messages newer than `after_seq`, oldest first (catch-up after a reconnect)."""
    return lookup.messages_json(conversation, queries.AFTER.rows(conversation=conversation.id, after=after_seq, limit=limit))


# With several processes, a client's live events come from each process's own path, so just before a
# reconnect it may have received a message committed after one it has not received yet. A catch-up
# therefore starts this far before the client's newest message (clients drop repeats by id).
CATCH_UP_OVERLAP_MS = 2_000
OVERLAP_SCAN = 200  # at most this many messages before the anchor are looked at for the overlap


def catch_up_start(conversation: Conversation, anchor_seq: int) -> int:
    """The seq to catch up after: the anchor's, or earlier by the messages of the overlap before it."""
    recent = list(
        Message.select(Message.seq, Message.created_at)
        .where((Message.conversation == conversation.id) & (Message.seq <= anchor_seq))
        .order_by(Message.seq.desc())
        .limit(OVERLAP_SCAN)
        .tuples()
    )
    if not recent:
        return anchor_seq
    since = recent[0][1] - CATCH_UP_OVERLAP_MS
    start = anchor_seq
    for seq, created_at in recent[1:]:
        if created_at < since:
            break
        start = seq
    return start if start == anchor_seq else start - 1


def find_seq(conversation: Conversation, message_id: str) -> int:
    row = queries.SEQ_OF.first(conversation=conversation.id, message_id=message_id)
    if row is None:
        raise InvalidInput(f"no message with id {message_id!r} in this conversation", code="UNKNOWN_CURSOR")
    return row.seq


async def get_message(ctx: ChatContext, app: App, conversation_id: str, message_id: str) -> dict[str, Any]:
    return await ctx.db.read(_get_message, app, conversation_id, message_id)


def _get_message(app: App, conversation_id: str, message_id: str) -> dict[str, Any]:
    conversation = lookup.find_conversation(app, conversation_id)
    return lookup.messages_json(conversation, [lookup.find_message(conversation, message_id)])[0]


async def edit_message(ctx: ChatContext, app: App, conversation_id: str, message_id: str, data: Any) -> dict:
    fields = parse_message_edit(data)
    return await ctx.write(_edit_message, app, conversation_id, message_id, fields)


def _edit_message(app: App, conversation_id: str, message_id: str, fields: dict[str, Any]):
    conversation = lookup.find_conversation(app, conversation_id)
    message = lookup.find_message(conversation, message_id)
    if not fields:
        return {}, []
    if "text" in fields:
        message.text = fields["text"]
    if "custom" in fields:
        message.custom = serialize.dumps(merge_custom(serialize.loads(message.custom, {}), fields["custom"]))
    message.edited_at = ids.now_ms()
    message.save(only=[Message.text, Message.custom, Message.edited_at])
    [data] = lookup.messages_json(conversation, [message])
    return {}, [Event(events.MESSAGE_UPDATED, app.app_id, conversation_id, {"message": data})]


async def delete_message(ctx: ChatContext, app: App, conversation_id: str, message_id: str) -> dict:
    return await ctx.write(_delete_message, app, conversation_id, message_id)


def _delete_message(app: App, conversation_id: str, message_id: str):
    conversation = lookup.find_conversation(app, conversation_id)
    message = lookup.find_message(conversation, message_id)
    Message.delete().where(Message.seq == message.seq).execute()
    data = {"conversationId": conversation_id, "messageId": message_id}
    return {}, [Event(events.MESSAGE_DELETED, app.app_id, conversation_id, data)]


async def mark_read(
    ctx: ChatContext, app: App, conversation_id: str, user: Me, message_id: str, member: str | None = None
) -> dict:
    """Move a participant's read marker forward to a message (never backwards). Guests have no unread
    tracking: for them this stores nothing and answers `tracked: false`."""
    is_guest = member is not None and await ctx.guests.is_admitted(conversation_key(app.app_id, conversation_id), member)
    return await ctx.write(_mark_read, app, conversation_id, user, message_id, is_guest)


def _mark_read(app: App, conversation_id: str, user: Me, message_id: str, is_guest: bool = False):
    conversation = lookup.find_conversation(app, conversation_id)
    participant = lookup.find_participant(conversation, user)
    if participant is None and is_guest:
        find_seq(conversation, message_id)
        return {"messageId": message_id, "tracked": False}, []
    access.require_reader(participant is not None, conversation_id)
    seq = find_seq(conversation, message_id)
    if seq <= participant.last_read_seq:
        return {"messageId": message_id, "tracked": True}, []
    Participant.update(last_read_seq=seq).where(Participant.id == participant.id).execute()
    data = {"conversationId": conversation_id, "userId": user.user_id, "messageId": message_id}
    marker = Event(events.READ_MARKER, app.app_id, conversation_id, data, user.user_id, (user.user_id,))
    return {"messageId": message_id, "tracked": True}, [marker]

