"""Answering a notification: reply by email, and the one-click unsubscribe link.

Each email notification has its own reply address, `reply-<id>-<signature>@<reply domain>`: the
notification's id and an HMAC of it under the installation's notification secret, in lowercase hex
(some mail systems fold the local part's case). It is good for one reply, within REPLY_DAYS of the
email, from a participant who may write (`Read` access only reads); anything else is refused at RCPT
time. The unsubscribe link carries a signed (app, conversation, user) and turns `notify` off there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re

from itsdangerous import BadSignature, URLSafeSerializer

from server.chat import admin, ids, messages, notify_rules, participants
from server.chat.context import ChatContext
from server.chat.errors import ChatError, InvalidInput
from server.chat.validation import parse_message_batch
from server.db.models import App, Conversation, Notification, Participant, User, database_proxy

SECRET_KEY = "notification_secret"
REPLY_DAYS = 30
SIGNATURE_HEX = 20  # 80 bits
REPLY_LOCAL_PART = re.compile(r"reply-(\d{1,18})-([0-9a-f]{%d})" % SIGNATURE_HEX)


class ReplyRefused(ChatError):
    """Mail for a reply address Parley will not take (SMTP answers 550 with the message)."""

    status, code = 403, "REPLY_REFUSED"


@dataclasses.dataclass(frozen=True)
class Signer:
    """Signs reply addresses and unsubscribe tokens with the installation's notification secret."""

    secret: str

    def reply_address(self, notification_id: int, domain: str) -> str:
        return f"reply-{notification_id}-{self._sign(notification_id)}@{domain}"

    def reply_id(self, address: str, domain: str) -> int:
        """The notification a reply address is for, if it is one Parley signed (else ReplyRefused)."""
        local, _, address_domain = address.strip().lower().rpartition("@")
        match = REPLY_LOCAL_PART.fullmatch(local)
        if address_domain != domain.lower() or match is None:
            raise ReplyRefused(f"{address} is not a reply address of this server")
        notification_id = int(match.group(1))
        if not hmac.compare_digest(match.group(2), self._sign(notification_id)):
            raise ReplyRefused(f"{address} is not a valid reply address")
        return notification_id

    def unsubscribe_token(self, app_id: str, conversation_id: str, user_id: str) -> str:
        return self._serializer().dumps([app_id, conversation_id, user_id])

    def unsubscribe_target(self, token: str) -> tuple[str, str, str]:
        try:
            app_id, conversation_id, user_id = self._serializer().loads(token)
        except (BadSignature, ValueError, TypeError):
            raise InvalidInput("this unsubscribe link is not valid (it may have been cut short)", code="INVALID_TOKEN") from None
        return app_id, conversation_id, user_id

    def _sign(self, notification_id: int) -> str:
        digest = hmac.new(self.secret.encode(), f"reply:{notification_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:SIGNATURE_HEX]

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="parley-unsubscribe")


async def signer(ctx: ChatContext) -> Signer:
    return Signer(await admin.installation_secret(ctx, SECRET_KEY))


@dataclasses.dataclass(frozen=True)
class ReplyTarget:
    notification_id: int
    app_id: str
    conversation_id: str
    user_id: str


async def check_reply(ctx: ChatContext, notification_id: int) -> ReplyTarget:
    """Whether a reply to this notification may be posted (RCPT time; checked again on posting)."""
    return await ctx.db.read(_check_reply, notification_id)


def _check_reply(notification_id: int) -> ReplyTarget:
    row = Notification.get_or_none(Notification.id == notification_id)
    if row is None or row.channel != notify_rules.EMAIL or row.status != "sent" or row.sent_at is None:
        raise ReplyRefused("this reply address is unknown")
    if row.replied_at is not None:
        raise ReplyRefused("this email was already answered; reply to a newer notification or open the chat")
    if ids.now_ms() - row.sent_at > REPLY_DAYS * 86_400_000:
        raise ReplyRefused(f"this reply address expired ({REPLY_DAYS} days after the email); open the chat to answer")
    participant = Participant.get_or_none((Participant.conversation == row.conversation_id) & (Participant.user == row.user_id))
    if participant is None:
        raise ReplyRefused("you are no longer in this conversation")
    if participant.access != "ReadWrite":
        raise ReplyRefused("you can read this conversation but not write in it, so replies are not posted")
    app, conversation, user = App.get_by_id(row.app_id), Conversation.get_by_id(row.conversation_id), User.get_by_id(row.user_id)
    return ReplyTarget(row.id, app.app_id, conversation.conversation_id, user.user_id)


async def post_reply(ctx: ChatContext, target: ReplyTarget, text: str) -> dict | None:
    """The reply as a UserMessage from the participant (origin "email"), live to everyone; None if
    the reply was empty once quotes and signatures were taken off."""
    if not text.strip():
        return None
    [item] = parse_message_batch([{"text": text.strip(), "sender": target.user_id, "type": "UserMessage",
                                   "idempotencyKey": f"email-reply-{target.notification_id}"}])
    app = await ctx.current_app(target.app_id)
    audience = await notify_rules.audience(ctx, app.app_id, target.conversation_id, [item])
    return await ctx.write(_post_reply, app, target, item, audience)


def _post_reply(app: App, target: ReplyTarget, item: dict, audience: notify_rules.Audience):
    query = Notification.select().where(Notification.id == target.notification_id)
    if getattr(database_proxy.obj, "for_update", False):
        query = query.for_update()  # two processes receiving the same reply: one posts it
    row = query.get()
    if row.replied_at is not None:
        raise ReplyRefused("this email was already answered")
    _check_reply(row.id)
    [stored], events = messages.send_batch(app, target.conversation_id, [item], "email", audience=audience)
    Notification.update(replied_at=ids.now_ms()).where(Notification.id == row.id).execute()
    return stored, events


async def unsubscribe(ctx: ChatContext, token: str) -> dict[str, str]:
    """The one-click link: notifications of this conversation off for this participant."""
    app_id, conversation_id, user_id = (await signer(ctx)).unsubscribe_target(token)
    app = await ctx.current_app(app_id)
    await participants.patch_participant(ctx, app, conversation_id, user_id, {"notify": False})
    return {"appName": app.name, "conversationId": conversation_id, "userId": user_id}
