"""The notification outbox: claiming due notifications, and how each delivery ended.

Rows come from chat.notify_rules; what a claimed row says is chat.missed. A due row is claimed in a
transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two processes never claim the same row; SQLite:
the one writer), which marks it `sending` until `CLAIM_MS` from now and counts the attempt; the
attempt number is the claim's token: `finish`, `retry` and `release` change the row only while
that claim still holds, so a delivery whose claim lapsed (and was taken over) cannot overwrite the
newer one's outcome. A process that dies mid-delivery leaves the row to be claimed again once the
claim lapses.
"""

from __future__ import annotations

from typing import Any

from peewee import fn

from server.chat import ids, notify_rules, serialize, webhook_events
from server.chat.context import ChatContext
from server.db import queries
from server.db.models import App, Conversation, Message, Notification, User, database_proxy

CLAIM_MS = 120_000  # longer than a delivery may take (server.notify.worker bounds one to DELIVERY_SECONDS)
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 3600
CLAIM_BATCH = 20

Claim = tuple[int, int]  # (notification id, attempt): the token of one claim


def claim_due(limit: int = CLAIM_BATCH) -> list[Claim]:
    """Due notifications, claimed for this process. One whose conversation had a message within its
    quiet period is put off until that period ends (within notify_rules.MAX_HOLD_SECONDS)."""
    now = ids.now_ms()
    due = (
        Notification.select()
        .where(Notification.status.in_(("pending", "sending")) & (Notification.due_at <= now))
        .order_by(Notification.due_at)
        .limit(limit)
    )
    if getattr(database_proxy.obj, "for_update", False):
        due = due.for_update(skip_locked=True)
    rows = list(due)
    timing = _timing({row.conversation_id for row in rows})
    # Each conversation's row lock waits for sends into it that are committing: every message
    # committed before the claim is seen below, and every later send sees the claim (and starts a
    # new notification rather than counting on this one).
    for conversation_pk in sorted(timing):
        queries.lock_conversation(conversation_pk)
    claimed = []
    for row in rows:
        last_message_at, delay_ms = timing[row.conversation_id]
        quiet_at = min(last_message_at + delay_ms, row.created_at + delay_ms + 1000 * notify_rules.MAX_HOLD_SECONDS)
        if row.attempts >= MAX_ATTEMPTS:  # its last claims lapsed, each without an outcome
            Notification.update(status="failed", detail=f"gave up after {row.attempts} attempts that never finished").where(
                Notification.id == row.id).execute()
        elif row.status == "pending" and quiet_at > now:
            Notification.update(due_at=quiet_at).where(Notification.id == row.id).execute()
        else:
            Notification.update(status="sending", due_at=now + CLAIM_MS, attempts=row.attempts + 1,
                                last_seq=_covers_up_to(row)).where(Notification.id == row.id).execute()
            claimed.append((row.id, row.attempts + 1))
    return claimed


def _timing(conversation_pks: set[int]) -> dict[int, tuple[int, int]]:
    """(last message time, quiet period in ms) of each conversation."""
    if not conversation_pks:
        return {}
    rows = (
        Conversation.select(Conversation.id, Conversation.last_message_at, App.notification_delay)
        .join(App, on=(Conversation.app == App.id))
        .where(Conversation.id.in_(conversation_pks))
        .objects()
    )
    delay = notify_rules.MAX_DELAY_SECONDS
    return {r.id: (r.last_message_at or 0, 1000 * min(r.notification_delay, delay)) for r in rows}


def _covers_up_to(row: Notification) -> int:
    """The conversation's newest message, or just before the next notification of the same recipient
    and channel (one started while this was being sent), which covers the rest."""
    newest = Message.select(fn.MAX(Message.seq)).where(Message.conversation == row.conversation_id).scalar() or 0
    following = (
        Notification.select(fn.MIN(Notification.first_seq))
        .where(
            (Notification.conversation == row.conversation_id) & (Notification.user == row.user_id)
            & (Notification.channel == row.channel) & (Notification.first_seq > row.first_seq)
        )
        .scalar()
    )
    return newest if following is None else min(newest, following - 1)


def next_due() -> int | None:
    """When the next notification falls due (ms since epoch), if any is waiting."""
    row = (
        Notification.select(Notification.due_at)
        .where(Notification.status.in_(("pending", "sending")))
        .order_by(Notification.due_at)
        .first()
    )
    return row.due_at if row else None


def _held(claim: Claim):
    notification_id, attempt = claim
    return (Notification.id == notification_id) & (Notification.status == "sending") & (Notification.attempts == attempt)


def finish(claim: Claim, status: str, detail: str, content: dict[str, Any] | None = None) -> bool:
    """`sent`, `skipped` or `failed`, for good; False if the claim had lapsed (another took it over)."""
    sent_at = ids.now_ms() if status == "sent" else None
    finished = Notification.update(
        status=status, detail=detail[:2000], content=serialize.dumps(content) if content else None, sent_at=sent_at
    ).where(_held(claim)).execute() == 1
    if finished and status == "sent":
        _sent_webhook(claim[0], (content or {}).get("count"))
    return finished


def _sent_webhook(notification_id: int, count: int | None) -> None:
    row = (
        Notification.select(Notification.channel, Notification.sent_at, App.app_id.alias("app_key"),
                            Conversation.conversation_id.alias("conversation_key"), User.user_id.alias("user_key"))
        .join(App, on=(Notification.app == App.id)).switch(Notification)
        .join(Conversation, on=(Notification.conversation == Conversation.id)).switch(Notification)
        .join(User, on=(Notification.user == User.id))
        .where(Notification.id == notification_id)
        .objects()
        .get()
    )
    if webhook_events.wanted(row.app_key, "notification.sent"):
        data = {"conversationId": row.conversation_key, "userId": row.user_key, "channel": row.channel, "messages": count,
                "sentAt": row.sent_at}
        webhook_events.record(row.app_key, "notification.sent", data, webhook_events.conversation_key(row.conversation_key))


def retry(claim: Claim, detail: str, first_delay_seconds: float) -> str:
    """A delivery failed in a way that may pass (server down, temporary refusal): again later, with
    the delay doubling each time, until MAX_ATTEMPTS; then `failed`. Returns the status now. Back in
    the outbox it covers what arrived meanwhile, so one started for the same recipient since goes."""
    notification_id, attempts = claim
    if attempts >= MAX_ATTEMPTS:
        finish(claim, "failed", f"gave up after {attempts} attempts: {detail}")
        return "failed"
    row = Notification.get_or_none(_held(claim))
    if row is None:
        return "taken over"
    Notification.delete().where(
        (Notification.conversation == row.conversation_id) & (Notification.user == row.user_id)
        & (Notification.channel == row.channel) & (Notification.status == "pending") & (Notification.id != row.id)
        & (Notification.first_seq > row.first_seq)
    ).execute()
    delay = min(first_delay_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    Notification.update(status="pending", due_at=ids.now_ms() + int(delay * 1000),
                        detail=f"attempt {attempts} failed: {detail}"[:2000]).where(_held(claim)).execute()
    return "pending"


def release(claims: list[Claim]) -> None:
    """Claims given back at shutdown (their attempt not counted), due at once for the next process."""
    for claim in claims:
        Notification.update(status="pending", due_at=ids.now_ms(), attempts=claim[1] - 1).where(_held(claim)).execute()


async def recent(ctx: ChatContext, app: App, limit: int = 50) -> list[dict[str, Any]]:
    """The app's latest notifications, newest first, for the dashboard."""
    return await ctx.db.read(_recent, app, limit)


def _recent(app: App, limit: int) -> list[dict[str, Any]]:
    rows = (
        Notification.select(Notification, User.user_id, Conversation.conversation_id)
        .join(User, on=(Notification.user == User.id))
        .switch(Notification)
        .join(Conversation, on=(Notification.conversation == Conversation.id))
        .where(Notification.app == app.id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [_summary(row) for row in rows]


def _summary(row: Notification) -> dict[str, Any]:
    content = serialize.loads(row.content, {}) if row.content else {}
    return {
        "id": row.id,
        "userId": row.user.user_id,
        "conversationId": row.conversation.conversation_id,
        "channel": row.channel,
        "status": row.status,
        "messages": content.get("count"),
        "attempts": row.attempts,
        "detail": row.detail,
        "createdAt": row.created_at,
        "dueAt": row.due_at,
        "sentAt": row.sent_at,
        "subject": content.get("subject"),
        "hasContent": bool(content.get("text") or content.get("html")),
    }


async def content(ctx: ChatContext, app: App, notification_id: int) -> dict[str, Any] | None:
    """What one of the app's notifications said, where it was kept: the development mailbox's emails
    (what went to a real SMTP server or SMS gateway is not kept, only its subject and recipients)."""

    def read() -> dict[str, Any] | None:
        row = Notification.get_or_none((Notification.id == notification_id) & (Notification.app == app.id))
        kept = serialize.loads(row.content, {}) if row is not None and row.content else {}
        return kept if kept.get("text") or kept.get("html") else None

    return await ctx.db.read(read)
