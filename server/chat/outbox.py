"""The notification outbox: claiming due notifications, what each one says, and how it ended.

Rows come from chat.notify_rules. A due row is claimed in a transaction (PostgreSQL: `FOR UPDATE
SKIP LOCKED`, so two processes never claim the same row; SQLite: the one writer), which marks it
`sending` until `CLAIM_MS` from now: a process that dies mid-delivery leaves it to be claimed
again once that lapses. What a notification says is read only when it is due, so messages read
(or deleted) during the quiet period are left out, and if nothing is left it is `skipped`.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from peewee import JOIN, fn

from server.chat import ids, notify_rules, serialize
from server.chat.context import ChatContext
from server.db.models import App, Conversation, Message, Notification, Participant, User, database_proxy

CLAIM_MS = 120_000  # longer than a delivery may take (SMTP and gateway calls time out well before)
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 3600
CLAIM_BATCH = 20
OTHERS_NAMED = 5  # a conversation without a subject is named by this many other participants
SCAN = 500  # unread messages of one notification looked at, newest first (the email counts at most this many)


@dataclasses.dataclass(frozen=True)
class MissedMessage:
    message_id: str
    sender: str
    text: str
    created_at: int


@dataclasses.dataclass(frozen=True)
class Missed:
    """Everything a delivery needs to say about one notification."""

    notification_id: int
    channel: str
    attempts: int
    app_id: str
    app_name: str
    link: str | None
    conversation_id: str
    subject: str | None
    others: list[str]
    user_id: str
    user_name: str
    emails: list[str]
    phones: list[str]
    can_reply: bool
    messages: list[MissedMessage]
    earlier: int  # unread messages it covers but does not list

    @property
    def count(self) -> int:
        return len(self.messages) + self.earlier


def claim_due(limit: int = CLAIM_BATCH) -> list[int]:
    """Due notifications, claimed for this process. One whose conversation had a message within its
    quiet period is not claimed but put off until that period ends."""
    now = ids.now_ms()
    due = (
        Notification.select(Notification.id, Notification.status, Notification.conversation)
        .where(Notification.status.in_(("pending", "sending")) & (Notification.due_at <= now))
        .order_by(Notification.due_at)
        .limit(limit)
    )
    if getattr(database_proxy.obj, "for_update", False):
        due = due.for_update(skip_locked=True)
    rows = list(due)
    quiet = _quiet_until([row.conversation_id for row in rows])
    claimed = []
    for row in rows:
        until = quiet.get(row.conversation_id, 0)
        if row.status == "pending" and until > now:
            Notification.update(due_at=until).where(Notification.id == row.id).execute()
        else:
            claimed.append(row.id)
            newest = Message.select(fn.MAX(Message.seq)).where(Message.conversation == row.conversation_id).scalar()
            Notification.update(status="sending", due_at=now + CLAIM_MS, attempts=Notification.attempts + 1,
                                last_seq=newest or 0).where(Notification.id == row.id).execute()
    return claimed


def _quiet_until(conversation_pks: list[int]) -> dict[int, int]:
    """When each conversation's quiet period ends: its last message plus its app's delay (ms)."""
    if not conversation_pks:
        return {}
    rows = (
        Conversation.select(Conversation.id, Conversation.last_message_at, App.notification_delay)
        .join(App, on=(Conversation.app == App.id))
        .where(Conversation.id.in_(set(conversation_pks)))
        .objects()
    )
    delay = notify_rules.MAX_DELAY_SECONDS
    return {r.id: (r.last_message_at or 0) + 1000 * min(r.notification_delay, delay) for r in rows}


def next_due() -> int | None:
    """When the next notification falls due (ms since epoch), if any is waiting."""
    row = (
        Notification.select(Notification.due_at)
        .where(Notification.status.in_(("pending", "sending")))
        .order_by(Notification.due_at)
        .first()
    )
    return row.due_at if row else None


def load(notification_id: int) -> Missed | str:
    """What a claimed notification says, or why there is nothing to say."""
    row = Notification.get_by_id(notification_id)
    conversation, user, app = Conversation.get_by_id(row.conversation_id), User.get_by_id(row.user_id), App.get_by_id(row.app_id)
    participant = Participant.get_or_none((Participant.conversation == conversation.id) & (Participant.user == user.id))
    if participant is None:
        return "no longer a participant"
    if participant.notify == "false":
        return "notifications turned off for this conversation"
    after = max(row.first_seq - 1, participant.last_read_seq)
    unread = _messages(row, user, after, participant.notify == "MentionsOnly")
    if not unread:
        return "every message was read (or deleted) in time"
    messages, earlier = unread[-notify_rules.KEEP:], max(0, len(unread) - notify_rules.KEEP)
    return Missed(
        notification_id=row.id,
        channel=row.channel,
        attempts=row.attempts,
        app_id=app.app_id,
        app_name=app.name,
        link=_link(app, conversation.conversation_id),
        conversation_id=conversation.conversation_id,
        subject=conversation.subject,
        others=_others(conversation, user),
        user_id=user.user_id,
        user_name=user.name,
        emails=serialize.loads(user.email) or [],
        phones=serialize.loads(user.phone) or [],
        can_reply=participant.access == "ReadWrite",
        messages=messages,
        earlier=earlier,
    )


def _messages(row: Notification, user: User, after_seq: int, mentions_only: bool) -> list[MissedMessage]:
    """The unread UserMessages it covers (up to the newest when claimed) meant for this recipient, oldest first."""
    rows = (
        Message.select(Message.message_id, Message.text, Message.created_at, User.name.alias("sender_name"))
        .join(User, JOIN.LEFT_OUTER, on=(Message.sender == User.id))
        .where(
            (Message.conversation == row.conversation_id) & (Message.seq > after_seq) & (Message.seq <= (row.last_seq or 0))
            & (Message.type == "UserMessage") & (Message.sender != user.id)
        )
        .order_by(Message.seq.desc())
        .limit(SCAN)
        .objects()
    )
    found = [MissedMessage(m.message_id, m.sender_name or "", m.text, m.created_at) for m in rows]
    if mentions_only:
        found = [m for m in found if notify_rules.mentions(m.text, user.user_id, user.name)]
    return found[::-1]


def _link(app: App, conversation_id: str) -> str | None:
    if not app.notification_link:
        return None
    if "{conversationId}" in app.notification_link:
        return app.notification_link.replace("{conversationId}", quote(conversation_id, safe=""))
    separator = "&" if "?" in app.notification_link else "?"
    return f"{app.notification_link}{separator}conversationId={quote(conversation_id, safe='')}"


def _others(conversation: Conversation, user: User) -> list[str]:
    rows = (
        User.select(User.name)
        .join(Participant, on=(Participant.user == User.id))
        .where((Participant.conversation == conversation.id) & (User.id != user.id))
        .order_by(Participant.joined_at)
        .limit(OTHERS_NAMED)
    )
    return [row.name for row in rows]


def finish(notification_id: int, status: str, detail: str, content: dict[str, Any] | None = None) -> None:
    """`sent`, `skipped` or `failed`, for good."""
    sent_at = ids.now_ms() if status == "sent" else None
    Notification.update(
        status=status, detail=detail[:2000], content=serialize.dumps(content) if content else None, sent_at=sent_at
    ).where(Notification.id == notification_id).execute()


def retry(notification_id: int, attempts: int, detail: str, first_delay_seconds: float) -> str:
    """A delivery failed in a way that may pass (server down, temporary refusal): again later, with
    the delay doubling each time, until MAX_ATTEMPTS; then `failed`. Returns the status now. Back in
    the outbox it covers what arrived meanwhile, so one started for the same recipient since goes."""
    if attempts >= MAX_ATTEMPTS:
        finish(notification_id, "failed", f"gave up after {attempts} attempts: {detail}")
        return "failed"
    row = Notification.get_by_id(notification_id)
    Notification.delete().where(
        (Notification.conversation == row.conversation_id) & (Notification.user == row.user_id)
        & (Notification.channel == row.channel) & (Notification.status == "pending") & (Notification.id != row.id)
    ).execute()
    delay = min(first_delay_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    Notification.update(status="pending", due_at=ids.now_ms() + int(delay * 1000), detail=f"attempt {attempts} failed: {detail}"[:2000]).where(
        Notification.id == notification_id
    ).execute()
    return "pending"


def release(notification_ids: list[int]) -> None:
    """Claims given back at shutdown, due at once for the next process to take."""
    if notification_ids:
        Notification.update(status="pending", due_at=ids.now_ms(), attempts=Notification.attempts - 1).where(
            Notification.id.in_(notification_ids) & (Notification.status == "sending")
        ).execute()


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
        "hasContent": bool(content),
    }


async def content(ctx: ChatContext, app: App, notification_id: int) -> dict[str, Any] | None:
    """What one of the app's notifications said (the development mailbox shows it)."""

    def read() -> dict[str, Any] | None:
        row = Notification.get_or_none((Notification.id == notification_id) & (Notification.app == app.id))
        return serialize.loads(row.content, {}) if row is not None and row.content else None

    return await ctx.db.read(read)
