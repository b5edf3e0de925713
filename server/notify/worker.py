"""The notifier: every process runs one; it claims due notifications from the outbox and delivers them.

A claim is a transaction (chat.outbox.claim_due), so with several processes each notification is
delivered by one of them. A delivery that fails in a way that may pass goes back to the outbox for
a later attempt; one that cannot succeed (no valid address, refused by the server) is `failed`,
with why, for the dashboard. On shutdown, deliveries under way finish (or their claims are given
back) so the next process sends them, once.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import formataddr
from urllib.parse import quote

from server.chat import ids, outbox, replies
from server.chat import missed as missed_messages
from server.chat.context import ChatContext
from server.chat.notify_rules import EMAIL
from server.chat.missed import Missed
from server.claim_loop import ClaimLoop
from server.config import Settings
from server.notify import compose
from server.notify.senders import DevMailbox, Delivered, SmsGateway, SmtpMailer, TryLater, valid_address
from server.notify.targets import safe_origin

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
STOP_WAIT_SECONDS = 25  # longer than one SMTP or gateway call may take (senders.TIMEOUT_SECONDS)
DELIVERY_SECONDS = 90  # one delivery, all its addresses: well within a claim (outbox.CLAIM_MS)


class Notifier:
    def __init__(self, ctx: ChatContext, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.domain = settings.mail_domain
        self.sender = settings.email_from or f"notifications@{self.domain}"
        self.mailer = SmtpMailer(settings.smtp, self.sender) if settings.smtp else DevMailbox(self.sender)
        self.sms = SmsGateway(settings.sms_webhook_url) if settings.sms_webhook_url else None
        self.signer: replies.Signer | None = None
        self._loop = ClaimLoop()

    async def start(self) -> None:
        self.signer = await replies.signer(self.ctx)
        self._loop.start(self._run(), "parley-notifier")
        sms = f", SMS via {safe_origin(self.settings.sms_webhook_url)}" if self.sms else ""
        log.info("notifications: email via %s%s", self.mailer.where, sms)

    async def stop(self) -> None:
        """No new claims; deliveries under way finish (or, after STOP_WAIT_SECONDS, are given back)."""
        await self._loop.stop(STOP_WAIT_SECONDS, lambda claims: self.ctx.db.write(outbox.release, claims))
        if self.sms is not None:
            await self.sms.close()

    async def _run(self) -> None:
        while not self._loop.stopping.is_set():
            try:
                claimed = await self._claim()
            except Exception:  # the database away for a moment: the outbox is still there later
                log.exception("claiming due notifications failed")
                claimed = []
            self._loop.dispatch(claimed, self.deliver)
            if len(claimed) < outbox.CLAIM_BATCH:
                await self._loop.pause(POLL_SECONDS)

    async def _claim(self) -> list[outbox.Claim]:
        due = await self.ctx.db.read(outbox.next_due)  # a read first: the writer only when something is due
        if due is None or due > ids.now_ms():
            return []
        return await self.ctx.db.write(outbox.claim_due)

    async def deliver(self, claim: outbox.Claim) -> str:
        """One claimed notification, to its end or back to the outbox; returns its status. Whatever
        goes wrong, it ends one of those ways (and is logged): a notification is never left claimed."""
        retry_after = self.settings.notification_retry_seconds
        try:
            missed = await self.ctx.db.read(missed_messages.load, claim[0])
            if isinstance(missed, str):
                await self.ctx.db.write(outbox.finish, claim, "skipped", missed)
                return "skipped"
            sending = self._email(missed) if missed.channel == EMAIL else self._sms(missed)
            delivered, content = await asyncio.wait_for(sending, DELIVERY_SECONDS)
        except TryLater as error:
            log.warning("notification %d not delivered yet: %s", claim[0], error)
            return await self.ctx.db.write(outbox.retry, claim, str(error), retry_after)
        except TimeoutError:
            log.warning("notification %d: delivery took over %d s", claim[0], DELIVERY_SECONDS)
            return await self.ctx.db.write(outbox.retry, claim, f"took over {DELIVERY_SECONDS} s", retry_after)
        except Exception as error:  # a bug must not lose the notification: it is retried (and logged)
            log.exception("notification %d failed", claim[0])
            return await self.ctx.db.write(outbox.retry, claim, f"internal error: {error}", retry_after)
        status = "sent" if delivered.to else "failed"
        await self.ctx.db.write(outbox.finish, claim, status, delivered.detail, content)
        return status

    async def _email(self, missed: Missed) -> tuple[Delivered, dict]:
        assert self.signer is not None
        valid = [a for a in missed.emails if valid_address(a)]
        refused = {a: "not a valid email address" for a in missed.emails if a not in valid}
        for address in refused:
            log.warning("notification %d: skipping %r, not a valid email address", missed.notification_id, address)
        reply = self.signer.reply_address(missed.notification_id, self.domain) if self.settings.inbound_smtp and missed.can_reply else None
        token = self.signer.unsubscribe_token(missed.app_id, missed.conversation_id, missed.user_id)
        unsubscribe = f"{self.settings.base_url}/notifications/unsubscribe?token={quote(token, safe='')}"
        letter = compose.letter(missed, unsubscribe, reply, f"<parley-notification-{missed.notification_id}@{self.domain}>")
        sender = formataddr((compose.one_line(missed.app_name), self.sender))
        delivered = await self.mailer.send({a: letter.to(a, sender) for a in valid}) if valid else Delivered()
        delivered.refused.update(refused)
        content = {"subject": letter.subject, "to": delivered.to, "via": self.mailer.where, "replyTo": reply, "count": missed.count}
        if isinstance(self.mailer, DevMailbox):  # what went out for real is not kept (a deleted message stays deleted)
            content.update(text=letter.text, html=letter.html)
        return delivered, content

    async def _sms(self, missed: Missed) -> tuple[Delivered, dict]:
        if self.sms is None:
            return Delivered(refused={"*": "no SMS gateway is configured (PARLEY_SMS_WEBHOOK_URL)"}), {}
        text = compose.sms(missed)
        delivered = await self.sms.send(missed.phones, text, missed.app_id, missed.conversation_id)
        return delivered, {"to": delivered.to, "via": "SMS gateway", "count": missed.count}

