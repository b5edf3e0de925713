"""The webhook deliverer: every process runs one; it claims due events and POSTs them, signed.

At most CONCURRENCY requests at once, each bounded to ATTEMPT_SECONDS; a 2xx is delivered, anything
else (another status, a timeout, a refused connection) is retried with backoff and jitter for up to
PARLEY_WEBHOOK_RETRY_HOURS; a URL that may not be called (private address, plain http) fails at once
with why. Only the first RESPONSE_BYTES of an answer are read.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx

from server.chat import ids, webhook_outbox
from server.chat.context import ChatContext
from server.claim_loop import ClaimLoop
from server.config import Settings
from server.webhooks import guard, signing

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
CONCURRENCY = 8
ATTEMPT_SECONDS = 10
RESPONSE_BYTES = 4096
STOP_WAIT_SECONDS = ATTEMPT_SECONDS + 2


class WebhookSender:
    def __init__(self, ctx: ChatContext, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings
        # No keep-alive: connections are to a pinned address, and one made for another host name (whose
        # certificate was checked) must never carry this one's events.
        self.client = httpx.AsyncClient(timeout=ATTEMPT_SECONDS, follow_redirects=False, trust_env=False,
                                        limits=httpx.Limits(max_keepalive_connections=0))
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._loop = ClaimLoop()

    async def start(self) -> None:
        self._loop.start(self._run(), "parley-webhooks")

    async def stop(self) -> None:
        await self._loop.stop(STOP_WAIT_SECONDS, lambda claims: self.ctx.db.write(webhook_outbox.release, claims))
        await self.client.aclose()

    async def _run(self) -> None:
        while not self._loop.stopping.is_set():
            claimed: list[webhook_outbox.Claim] = []
            room = CONCURRENCY - len(self._loop.delivering)
            try:
                due = await self.ctx.db.read(webhook_outbox.next_due)
                if due is not None and due <= ids.now_ms() and room > 0:
                    claimed = await self.ctx.db.write(webhook_outbox.claim_due, room)
            except Exception:
                log.exception("claiming webhook events failed")
            self._loop.dispatch(claimed, self.deliver)
            await self._loop.pause(POLL_SECONDS if not claimed else 0.05)

    async def deliver(self, claim: webhook_outbox.Claim) -> str:
        async with self._slots:
            started = time.monotonic()
            status_code: int | None = None
            try:
                row, app = await self.ctx.db.read(webhook_outbox.load, claim[0])
                if not app.webhook_url:
                    return await self._failed(claim, "the app has no webhook URL any more", None, None)
                async with asyncio.timeout(ATTEMPT_SECONDS):  # the whole attempt, however slowly a receiver answers
                    target = await guard.resolve(app.webhook_url, app.webhook_allow_http, self.settings.webhook_allow_private)
                    status_code = await self._post(target, app.secret_key, row.body.encode())
            except guard.Refused as refused:
                return await self._failed(claim, str(refused), None, None, final=True)
            except TimeoutError:
                return await self._failed(claim, f"no answer within {ATTEMPT_SECONDS} s", None, _ms(started))
            except (httpx.HTTPError, OSError) as error:
                return await self._failed(claim, f"{type(error).__name__}: {error}"[:300], None, _ms(started))
            except Exception as error:
                log.exception("webhook event %d failed", claim[0])
                return await self._failed(claim, f"internal error: {error}", None, _ms(started))
            if 200 <= status_code < 300:
                await self.ctx.db.write(webhook_outbox.delivered, claim, status_code, _ms(started))
                return "delivered"
            return await self._failed(claim, f"HTTP {status_code}", status_code, _ms(started))

    async def _post(self, target: guard.Target, secret_key: str, body: bytes) -> int:
        headers = {"Host": target.host, "User-Agent": "Parley-Webhooks", **signing.headers(secret_key, str(ids.now_ms()), body)}
        extensions = {"sni_hostname": target.host} if target.url.startswith("https:") else {}
        request = self.client.build_request("POST", target.url, content=body, headers=headers, extensions=extensions)
        response = await self.client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():  # only so much of an answer is read
                read += len(chunk)
                if read >= RESPONSE_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code

    async def _failed(self, claim, detail: str, status_code: int | None, latency_ms: int | None, final: bool = False) -> str:
        hours = 0 if final else self.settings.webhook_retry_hours
        return await self.ctx.db.write(webhook_outbox.failed_attempt, claim, detail, status_code, latency_ms,
                                       self.settings.webhook_retry_seconds, hours)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
