"""Replies by email: an SMTP listener (aiosmtpd) on PARLEY_INBOUND_SMTP, in the server's event loop.

Only mail for a valid reply address is accepted (chat.replies decides; anything else is refused at
RCPT with 550, so the sender's mail server bounces it at once); mail over MAX_BYTES is refused by
the protocol itself (552, announced as SIZE). The reply's newest text, without quoted mail and
signatures (mail-parser-reply), is posted as the participant's message, origin "email".
With several processes on one machine each listens on the same port (SO_REUSEPORT).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import html.parser
import logging
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, Envelope, Session
from mailparser_reply import EmailReplyParser

from server.chat import replies
from server.chat.context import ChatContext
from server.chat.errors import ChatError

log = logging.getLogger(__name__)
MAX_BYTES = 1_000_000
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da"]


AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def is_automatic(message: EmailMessage) -> bool:
    """An out-of-office answer, a bounce or a mailing list's copy (RFC 3834 and common practice): not a reply."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto_submitted != "no"
        or precedence in AUTOMATIC_PRECEDENCE
        or any(name in message for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Reply"))
        or message.get_content_type() == "multipart/report"
    )


def reply_text(raw: bytes) -> str:
    """The text a person wrote on top of a reply: quotes, headers of the quoted mail and signatures off."""
    part = parse(raw).get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    body = _decoded(part)
    if part.get_content_subtype() == "html":
        body = _html_text(body)
    parsed = EmailReplyParser(languages=LANGUAGES).read(text=body.replace("\r\n", "\n"))
    latest = parsed.replies[0].body if parsed.replies else body
    lines = [line for line in latest.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _decoded(part: EmailMessage) -> str:
    """A text part's content; an unknown or wrong charset is read as UTF-8 with replacements, not refused."""
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload or "")


class _TextOf(html.parser.HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "blockquote"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("style", "script", "head", "blockquote"):
            self.skipping += 1
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "blockquote") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _TextOf()
    parser.feed(markup)
    return "".join(parser.parts)


class ReplyHandler:
    """aiosmtpd's handler: RCPT checks the reply address, DATA posts the reply."""

    def __init__(self, ctx: ChatContext, signer: replies.Signer, domain: str) -> None:
        self.ctx = ctx
        self.signer = signer
        self.domain = domain

    async def handle_exception(self, error: Exception) -> str:
        """Anything unexpected (the database away): a temporary refusal the sender's server retries,
        not aiosmtpd's default permanent 500 with the error's text."""
        log.error("inbound mail failed: %s", error, exc_info=error)
        return "451 4.3.0 the reply could not be taken now; try again later"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list) -> str:  # noqa: N802 (aiosmtpd's names)
        if envelope.rcpt_tos:
            return "452 4.5.3 one reply address per message"
        try:
            await replies.check_reply(self.ctx, self.signer.reply_id(address, self.domain))
        except replies.ReplyRefused as refused:
            log.info("inbound mail for %s refused: %s", address, refused.message)
            return f"550 5.1.1 {refused.message}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        [address] = envelope.rcpt_tos
        raw = envelope.original_content or envelope.content
        raw = raw if isinstance(raw, bytes) else raw.encode()
        if is_automatic(parse(raw)):  # accepted (a refusal would bounce back and forth), never posted
            log.info("automatic mail to %s (out of office, bounce, list) ignored", address)
            return "250 OK: automatic mail is not posted"
        try:
            target = await replies.check_reply(self.ctx, self.signer.reply_id(address, self.domain))
            posted = await replies.post_reply(self.ctx, target, reply_text(raw))
        except replies.ReplyRefused as refused:
            return f"550 5.7.1 {refused.message}"
        except ChatError as error:  # e.g. the reply is longer than a message may be
            return f"550 5.6.0 {error.message}"
        except Exception:
            log.exception("posting a reply by email failed")
            return "451 4.3.0 the reply could not be posted now; try again later"
        if posted is None:
            log.info("reply to %s was empty once quotes and signatures were removed: nothing posted", address)
            return "250 OK: the reply was empty, nothing was posted"
        return f"250 OK: posted as {posted['id']}"


class InboundMail:
    def __init__(self, ctx: ChatContext, host: str, port: int, domain: str) -> None:
        self.ctx, self.host, self.port, self.domain = ctx, host, port, domain
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        handler = ReplyHandler(self.ctx, await replies.signer(self.ctx), self.domain)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: SMTP(handler, data_size_limit=MAX_BYTES, enable_SMTPUTF8=True, hostname=self.domain, ident="Parley"),
                self.host,
                self.port,
                reuse_port=True,
            )
        except OSError as error:
            raise RuntimeError(f"cannot receive replies on {self.host}:{self.port} (PARLEY_INBOUND_SMTP): {error}") from None
        log.info("receiving replies by email on %s:%d for *@%s", self.host, self.port, self.domain)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
