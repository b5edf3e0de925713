"""What a claimed notification says: the recipient, the conversation, and the messages they missed.

Read when it is due, not when it was started: messages read (or deleted) meanwhile are left out, and
if nothing is left it says why instead.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from peewee import JOIN, fn

from server.chat import notify_rules, serialize
from server.db.models import App, Conversation, Message, Notification, Participant, User

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


def load(notification_id: int) -> Missed | str:
    """What a claimed notification says, or why there is nothing to say."""
    row = Notification.get_by_id(notification_id)
    conversation, user, app = Conversation.get_by_id(row.conversation_id), User.get_by_id(row.user_id), App.get_by_id(row.app_id)
    participant = Participant.get_or_none((Participant.conversation == conversation.id) & (Participant.user == user.id))
    if participant is None:
        return "no longer a participant"
    if participant.notify == "false":
        return "notifications turned off for this conversation"
    # Everything unread since they joined that no earlier notification covered: also a message that
    # started none because they seemed to be viewing (a view that had in fact just ended).
    after = max(_covered_before(row), participant.last_read_seq)
    unread = _messages(row, user, after, participant)
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


def _covered_before(row: Notification) -> int:
    """The newest message that earlier notifications of this recipient cover: what a sent (or found
    read) one or one being sent covered; one still waiting will cover up to just before this one."""
    earlier = (Notification.conversation == row.conversation_id) & (Notification.user == row.user_id) & (
        Notification.channel == row.channel) & (Notification.first_seq < row.first_seq)
    fixed = Notification.select(fn.MAX(Notification.last_seq)).where(
        earlier & Notification.status.in_(("sent", "skipped", "sending"))).scalar()
    waiting = Notification.select(Notification.id).where(earlier & (Notification.status == "pending")).exists()
    return max(fixed or 0, row.first_seq - 1 if waiting else 0)


def _messages(row: Notification, user: User, after_seq: int, participant: Participant) -> list[MissedMessage]:
    """The unread UserMessages it covers (up to the newest when claimed) meant for this recipient, oldest first."""
    rows = (
        Message.select(Message.message_id, Message.text, Message.created_at, User.name.alias("sender_name"))
        .join(User, JOIN.LEFT_OUTER, on=(Message.sender == User.id))
        .where(
            (Message.conversation == row.conversation_id) & (Message.seq > after_seq) & (Message.seq <= (row.last_seq or 0))
            & (Message.type == "UserMessage") & (Message.sender != user.id) & (Message.created_at >= participant.joined_at)
        )
        .order_by(Message.seq.desc())
        .limit(SCAN)
        .objects()
    )
    found = [MissedMessage(m.message_id, m.sender_name or "", m.text, m.created_at) for m in rows]
    if participant.notify == "MentionsOnly":
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
