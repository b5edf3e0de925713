"""The webhook outbox: claiming events to deliver, in order per conversation, and recording attempts.

An event of a conversation is claimed only once every earlier event of that conversation (for the
same app) is delivered or has given up, so a receiver sees a conversation's events in the order they
happened, also across retries. Claims are transactions (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite:
the one writer) and tokens (the attempt number), as in chat.outbox.
"""

from __future__ import annotations

import random
from typing import Any

from peewee import fn

from server.chat import ids
from server.chat.context import ChatContext
from server.db.models import App, WebhookEvent, database_proxy

CLAIM_MS = 60_000  # longer than one attempt may take (server.webhooks.worker.ATTEMPT_SECONDS)
CLAIM_BATCH = 50
MAX_BACKOFF_SECONDS = 3600
LOG_SIZE = 100

Claim = tuple[int, int]


def _unblocked():
    """Not waiting for an earlier event of its ordering key."""
    earlier = WebhookEvent.alias()
    blocked = earlier.select(earlier.id).where(
        (earlier.app == WebhookEvent.app) & (earlier.ordering_key == WebhookEvent.ordering_key)
        & (earlier.id < WebhookEvent.id) & earlier.status.in_(("pending", "sending"))
    )
    return WebhookEvent.ordering_key.is_null() | ~fn.EXISTS(blocked)


def claim_due(limit: int = CLAIM_BATCH) -> list[Claim]:
    now = ids.now_ms()
    due = (
        WebhookEvent.select(WebhookEvent.id, WebhookEvent.attempts)
        .where(WebhookEvent.status.in_(("pending", "sending")) & (WebhookEvent.due_at <= now) & _unblocked())
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    if getattr(database_proxy.obj, "for_update", False):
        due = due.for_update(skip_locked=True)
    claimed = [(row.id, row.attempts + 1) for row in due]
    for event_id, attempt in claimed:
        WebhookEvent.update(status="sending", due_at=now + CLAIM_MS, attempts=attempt).where(WebhookEvent.id == event_id).execute()
    return claimed


def next_due() -> int | None:
    """When the next event that may go now falls due (one waiting for an earlier one does not count)."""
    row = WebhookEvent.select(WebhookEvent.due_at).where(WebhookEvent.status.in_(("pending", "sending")) & _unblocked()).order_by(
        WebhookEvent.due_at).first()
    return row.due_at if row else None


def _held(claim: Claim):
    return (WebhookEvent.id == claim[0]) & (WebhookEvent.status == "sending") & (WebhookEvent.attempts == claim[1])


def delivered(claim: Claim, status_code: int, latency_ms: int) -> None:
    WebhookEvent.update(status="delivered", delivered_at=ids.now_ms(), response_status=status_code, latency_ms=latency_ms,
                        detail=f"HTTP {status_code}").where(_held(claim)).execute()


def failed_attempt(claim: Claim, detail: str, status_code: int | None, latency_ms: int | None,
                   first_delay_seconds: float, retry_hours: float) -> str:
    """Again later (doubling, with jitter, at most an hour apart) until `retry_hours` after the event;
    then `failed`. Returns the status now."""
    row = WebhookEvent.get_or_none(_held(claim))
    if row is None:
        return "taken over"
    now = ids.now_ms()
    delay = min(first_delay_seconds * 2 ** (claim[1] - 1), MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)
    if now + delay * 1000 > row.created_at + retry_hours * 3_600_000:
        status, detail = "failed", f"gave up after {claim[1]} attempts over {retry_hours:g} h: {detail}"
    else:
        status = "pending"
    WebhookEvent.update(status=status, due_at=now + int(delay * 1000), response_status=status_code, latency_ms=latency_ms,
                        detail=detail[:1000]).where(_held(claim)).execute()
    return status


def release(claims: list[Claim]) -> None:
    for claim in claims:
        WebhookEvent.update(status="pending", due_at=ids.now_ms(), attempts=claim[1] - 1).where(_held(claim)).execute()


def load(event_id: int) -> tuple[WebhookEvent, App]:
    row = WebhookEvent.get_by_id(event_id)
    return row, App.get_by_id(row.app_id)


def redeliver(app: App, event_id: int) -> bool:
    """Send a delivered or failed event again (the dashboard's button): once more, now."""
    return WebhookEvent.update(status="pending", due_at=ids.now_ms(), attempts=0).where(
        (WebhookEvent.id == event_id) & (WebhookEvent.app == app.id) & WebhookEvent.status.in_(("delivered", "failed"))
    ).execute() == 1


async def log(ctx: ChatContext, app: App, limit: int = LOG_SIZE) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        rows = WebhookEvent.select().where(WebhookEvent.app == app.id).order_by(WebhookEvent.id.desc()).limit(limit)
        return [{"id": r.id, "eventId": r.event_id, "type": r.type, "status": r.status, "attempts": r.attempts,
                 "responseStatus": r.response_status, "latencyMs": r.latency_ms, "detail": r.detail,
                 "createdAt": r.created_at, "nextAttemptAt": r.due_at if r.status == "pending" else None} for r in rows]

    return await ctx.db.read(read)
