"""Sending: email over SMTP (aiosmtplib) or into the development mailbox, SMS through an HTTP gateway.

A send either reports what happened (`Delivered`: who got it, who was refused and why) or raises
`TryLater` when nothing went out and a later attempt may succeed (server down, 4xx before any
recipient was accepted, gateway 5xx or timeout). Whether to retry is decided by the caller.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib
import httpx

from server.notify.targets import SmtpTarget

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20
ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
DEV_MAILBOX = "development mailbox (PARLEY_SMTP_URL is not set; the dashboard shows it)"


class TryLater(Exception):
    """Nothing was delivered; the same delivery may succeed later."""


@dataclasses.dataclass
class Delivered:
    to: list[str] = dataclasses.field(default_factory=list)
    refused: dict[str, str] = dataclasses.field(default_factory=dict)  # address -> why

    @property
    def detail(self) -> str:
        parts = [f"sent to {', '.join(self.to)}"] if self.to else []
        parts += [f"{address} refused: {why}" for address, why in self.refused.items()]
        return "; ".join(parts) or "no address to send to"


def valid_address(address: str) -> bool:
    if not isinstance(address, str) or not ADDRESS.fullmatch(address):
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return True


class SmtpMailer:
    """One SMTP session per notification, one message per address (each its own envelope)."""

    def __init__(self, target: SmtpTarget, sender: str) -> None:
        self.target = target
        self.sender = sender
        self.where = target.display

    async def send(self, messages: dict[str, EmailMessage]) -> Delivered:
        delivered = Delivered()
        try:
            async with self._client() as client:
                for address, message in messages.items():
                    await self._send_one(client, address, message, delivered)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            if not delivered.to:  # nothing went out: all of it may go later
                raise TryLater(f"{self.where}: {_describe(error)}") from error
            log.warning("SMTP session ended early after delivering to %s: %s", delivered.to, error)
            for address in messages:  # recorded, not dropped: a retry would send the others theirs again
                if address not in delivered.to and address not in delivered.refused:
                    delivered.refused[address] = f"not sent: the SMTP session ended early ({_describe(error)})"
        return delivered

    async def _send_one(self, client: aiosmtplib.SMTP, address: str, message: EmailMessage, delivered: Delivered) -> None:
        try:
            await client.send_message(message, sender=Address(addr_spec=self.sender).addr_spec, recipients=[address])
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as error:
            code = _code(error)
            if code is not None and 400 <= code < 500 and not delivered.to:
                raise  # temporary and nothing sent yet: retry the whole notification
            delivered.refused[address] = _describe(error)
            log.warning("SMTP refused %s: %s", address, _describe(error))
            return
        delivered.to.append(address)

    def _client(self) -> aiosmtplib.SMTP:
        target = self.target
        credentials = {"username": target.username, "password": target.password or ""} if target.username else {}
        return aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            use_tls=target.use_tls,
            # with credentials, only over TLS; without, upgrade when the server offers it
            start_tls=None if target.use_tls or not target.username else True,
            validate_certs=target.verify_certificates,
            timeout=TIMEOUT_SECONDS,
            **credentials,
        )


class DevMailbox:
    """Without SMTP configured: nothing leaves the machine; the outbox row keeps what was "sent"."""

    where = DEV_MAILBOX

    def __init__(self, sender: str) -> None:
        self.sender = sender

    async def send(self, messages: dict[str, EmailMessage]) -> Delivered:
        for address, message in messages.items():
            log.info("email for %s kept in the development mailbox: %s", address, message["Subject"])
        return Delivered(to=list(messages))


class SmsGateway:
    """POSTs `{to, text, appId, conversationId}` as JSON; any 2xx is delivered."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    async def send(self, phones: list[str], text: str, app_id: str, conversation_id: str) -> Delivered:
        delivered = Delivered()
        for phone in phones:
            body = {"to": phone, "text": text, "appId": app_id, "conversationId": conversation_id}
            try:
                response = await self.client.post(self.url, json=body)
            except httpx.HTTPError as error:
                if not delivered.to:
                    raise TryLater(f"SMS gateway: {_describe(error)}") from error
                delivered.refused[phone] = _describe(error)
                continue
            if response.is_success:
                delivered.to.append(phone)
            elif (response.status_code >= 500 or response.status_code == 429) and not delivered.to:
                raise TryLater(f"SMS gateway answered HTTP {response.status_code}")
            else:
                delivered.refused[phone] = f"SMS gateway answered HTTP {response.status_code}: {response.text[:200]}"
        return delivered

    async def close(self) -> None:
        await self.client.aclose()


def _code(error: Exception) -> int | None:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return min((e.code for e in error.recipients), default=None)
    return getattr(error, "code", None)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()[:300]
