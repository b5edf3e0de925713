"""Who is told of a message they missed, and how messages gather into one notification.

The rule (TalkJS's documented behaviour): a `UserMessage` notifies each participant, `Read` access
included, whose `notify` is true (or "MentionsOnly" and the message mentions them by `@name` or
`@userId`), who did not send it, and who is not viewing the conversation in a visible, focused UI
(offline, another conversation selected, or the tab hidden or unfocused all count as away).
System messages notify no one; guests are not participants, so nothing here ever reaches them.

Messages gather per recipient, conversation and channel in one outbox row (db.models.Notification),
written in the same transaction as the first message that notifies them; it covers the messages from
that one on and is due once the conversation has been quiet for the app's quiet period (no message,
nobody typing). chat.outbox delivers due rows: what is still unread and was meant for them.
"""

from __future__ import annotations

import dataclasses
import re

from server.chat import ids, webhook_events
from server.chat.context import ChatContext
from server.db import queries
from server.db.models import App, Conversation, Notification, User

KEEP = 20  # messages listed per notification (the newest); an email says how many earlier ones it leaves out
MAX_DELAY_SECONDS = 900
MAX_HOLD_SECONDS = 900  # a conversation that is never quiet holds a notification at most this much past its quiet period
EMAIL, SMS = "email", "sms"


@dataclasses.dataclass(frozen=True)
class Audience:
    """What a send needs to know from outside its transaction: who views the conversation right
    now (presence, possibly in Redis) and which channels this server delivers on."""

    viewers: frozenset[str] = frozenset()
    channels: tuple[str, ...] = (EMAIL,)


def mentions(text: str, user_id: str, name: str) -> bool:
    """Whether `text` mentions the user as `@userId` or `@name` (any case), as a whole word."""
    for handle in {user_id, name}:
        if handle and re.search(r"(?<![\w@])@" + re.escape(handle) + r"(?!\w)", text, re.IGNORECASE):
            return True
    return False


def wants(notify: str, mentioned: bool) -> bool:
    """A participant's `notify` setting, applied to one message."""
    return notify == "true" or (notify == "MentionsOnly" and mentioned)


def gather(app: App, conversation: Conversation, seq: int, sender: User, text: str, audience: Audience) -> None:
    """A new UserMessage, inside the send's transaction: a pending notification for each recipient who
    has none. One who has one already needs nothing written: it covers every message from its first
    on, and it waits for the conversation to be quiet (chat.outbox.claim_due reads the conversation's
    last message time). So a send into a busy conversation writes nothing here at all."""
    recipients = _recipients(conversation, sender, text, audience.viewers)
    wanted = {(user_pk, channel) for user_pk, _, emails, phones in recipients
              for channel in audience.channels if (emails if channel == EMAIL else phones)}
    if not wanted:
        return
    new = wanted - set(queries.PENDING_NOTIFICATIONS.tuples(conversation=conversation.id))
    if new:
        now = ids.now_ms()
        due_at = now + 1000 * min(app.notification_delay, MAX_DELAY_SECONDS)
        Notification.insert_many(
            [{"app": app.id, "conversation": conversation.id, "user": user_pk, "channel": channel, "first_seq": seq,
              "due_at": due_at, "created_at": now} for user_pk, channel in sorted(new)]
        ).execute()
        if webhook_events.wanted(app.app_id, "notification.triggered"):
            user_ids = {user_pk: user_id for user_pk, user_id, _, _ in recipients}
            for user_pk, channel in sorted(new):
                data = {"conversationId": conversation.conversation_id, "userId": user_ids[user_pk], "channel": channel,
                        "dueAt": due_at}
                webhook_events.record(app.app_id, "notification.triggered", data,
                                      webhook_events.conversation_key(conversation.conversation_id), after=True)


def _recipients(conversation: Conversation, sender: User, text: str, viewers: frozenset[str]) -> list[tuple[int, str, bool, bool]]:
    """(user pk, user id, has an email, has a phone) of each participant this message notifies."""
    mentioning = "@" in text
    return [
        (user_pk, user_id, _listed(email), _listed(phone))
        for user_pk, user_id, name, email, phone, notify in queries.NOTIFY_CANDIDATES.tuples(conversation=conversation.id, sender=sender.id)
        if user_id not in viewers and wants(notify, mentioning and mentions(text, user_id, name))
    ]


def _listed(stored: str | None) -> bool:
    """Whether a stored JSON list of addresses has any."""
    return bool(stored) and stored not in ("[]", "null")


def postpone(app: App, conversation_id: str) -> None:
    """Someone is typing there: pending notifications wait for another quiet period (but none is held
    more than MAX_HOLD_SECONDS past its own quiet period, however long people keep typing)."""
    delay_ms = 1000 * min(app.notification_delay, MAX_DELAY_SECONDS)
    due_at = ids.now_ms() + delay_ms
    conversation = Conversation.select(Conversation.id).where(
        (Conversation.app == app.id) & (Conversation.conversation_id == conversation_id)
    )
    Notification.update(due_at=due_at).where(
        (Notification.conversation.in_(conversation)) & (Notification.status == "pending") & (Notification.due_at < due_at)
        & (Notification.created_at >= due_at - delay_ms - 1000 * MAX_HOLD_SECONDS)
    ).execute()


async def audience(ctx: ChatContext, app_id: str, conversation_id: str, batch: list[dict]) -> Audience:
    """Read before a send's transaction: only a batch with a UserMessage asks who is viewing."""
    if not any(item["type"] == "UserMessage" for item in batch):
        return Audience(channels=())
    return Audience(await ctx.presence.viewers(app_id, conversation_id), ctx.notification_channels)


async def typing_started(ctx: ChatContext, app_id: str, conversation_id: str) -> None:
    """A participant started typing (a coalesced start, at most one per typist every few seconds)."""
    app = await ctx.current_app(app_id)
    await ctx.db.write(postpone, app, conversation_id)
