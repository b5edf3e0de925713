"""Rate limits at every entrance, with the `limits` library: the rules, once; their values, per app.

Counts live in memory for one process, or in Redis when `PARLEY_REDIS_URL` is set, so that several
processes share them. The moving window is exact (at most N in any stretch of the window's length)
and holds one entry per hit still inside its window, not per allowed hit. The defaults never slow down a person chatting; an app raises or lowers
each with `parley app set APP_ID key=value` or in the dashboard (values in `limits`' notation:
`10/10 seconds`, `30/minute`, `60 per 10 minutes`). Going over is refused with `RATE_LIMITED` and
`retryAfter` (seconds), HTTP 429 with `Retry-After` over REST; nothing is stored.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time

import limits
import redis.asyncio
from redis.exceptions import RedisError
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from server.chat._limits_storage import SweepingMemoryStorage
from server.chat.errors import ChatError, InvalidInput

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Rule:
    default: str
    counts: str  # what is counted, for people (dashboard, docs, error messages)
    per_connection: bool = False  # counted in this process only: a connection lives in one process


RULES = {
    "messagesPerConnection": Rule("10/10 seconds", "messages sent on one realtime connection", per_connection=True),
    "messagesPerUser": Rule("30/minute", "messages one user sends from browsers, all connections together"),
    "joinsPerConnection": Rule("30/minute", "conversations joined on one realtime connection", per_connection=True),
    "connectionsPerAddress": Rule("60/minute", "realtime connections opened from one client address"),
    "usersCreatedPerAddress": Rule("60/10 minutes", "users created by browser sync from one client address"),
    "restCallsPerApp": Rule("100/second", "REST API calls made with the app's secret key"),
}
# Not per app: signing in to the dashboard is the server's own door.
SIGN_IN_FAILURES_PER_ADDRESS = limits.parse("5/5 minutes")


class RateLimited(ChatError):
    status, code = 429, "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retryAfter": self.retry_after}


def parse_rate(key: str, raw: str) -> str:
    """A rate as typed (`20/10 seconds`), checked; stored as typed, stripped."""
    text = raw.strip()
    try:
        item = limits.parse(text)
    except ValueError:
        raise InvalidInput(f"{key} must be a rate like {RULES[key].default!r}, got {raw!r}") from None
    if item.amount < 1:
        raise InvalidInput(f"{key} must allow at least 1, got {raw!r}")
    return text


def parse_overrides(stored: str | None) -> dict[str, str]:
    return json.loads(stored) if stored else {}


def effective(overrides: str | None) -> dict[str, str]:
    """Every rule's value for an app: its own where set, else the default."""
    own = parse_overrides(overrides)
    return {key: own.get(key, rule.default) for key, rule in RULES.items()}


class RateLimiter:
    """Counts per connection stay in this process's memory; the others are shared (Redis if configured)."""

    def __init__(self, redis_url: str | None = None) -> None:
        # Parley owns the Redis connection pool (passed to limits), so that it can close it.
        # Bounded, and waiting for a free connection rather than failing when a crowd arrives at once.
        self._pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=64, timeout=5) if redis_url else None
        shared: Storage = (
            RedisStorage(_async_uri(redis_url), implementation="redispy", key_prefix="parley-limits", connection_pool=self._pool)
            if redis_url else SweepingMemoryStorage()
        )
        self.local_storage = SweepingMemoryStorage()
        self.storage = shared
        self.strategy = MovingWindowRateLimiter(shared)
        self.local = MovingWindowRateLimiter(self.local_storage)
        self._items: dict[str, limits.RateLimitItem] = {}
        self._warned_at = -1e9

    def _item(self, rate: str) -> limits.RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = limits.parse(rate)
        return item

    async def hit(self, rule: str, overrides: str | None, *identity: str, cost: int = 1) -> None:
        """Count `cost`; refuse with RateLimited (counting nothing) when this rule's rate for the app is used up."""
        rate = parse_overrides(overrides).get(rule, RULES[rule].default) if overrides else RULES[rule].default
        strategy = self.local if RULES[rule].per_connection else self.strategy
        what = f"too many {RULES[rule].counts} (at most {rate})"
        await self.hit_item(self._item(rate), (rule, *identity), what, cost, strategy)

    async def hit_item(self, item: limits.RateLimitItem, identity: tuple[str, ...], what: str, cost: int = 1,
                       strategy: MovingWindowRateLimiter | None = None) -> None:
        strategy = strategy or self.strategy
        try:
            allowed = await strategy.hit(item, *identity, cost=cost)
        except (RedisError, OSError) as error:
            # Shared counts are out of reach: each process counts alone until Redis is back (looser by
            # the number of processes, never unlimited), rather than refusing everyone.
            self._shared_unreachable(error)
            strategy = self.local
            allowed = await strategy.hit(item, *identity, cost=cost)
        if allowed:
            return
        stats = await strategy.get_window_stats(item, *identity)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(f"{what}; try again in {retry_after} s", retry_after)

    async def test_item(self, item: limits.RateLimitItem, identity: tuple[str, ...]) -> int:
        """0 if one more is allowed now, else the seconds until it is."""
        strategy = self.strategy
        try:
            allowed = await strategy.test(item, *identity)
        except (RedisError, OSError) as error:
            self._shared_unreachable(error)
            strategy = self.local
            allowed = await strategy.test(item, *identity)
        if allowed:
            return 0
        stats = await strategy.get_window_stats(item, *identity)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def clear(self, item: limits.RateLimitItem, identity: tuple[str, ...]) -> None:
        try:
            await self.strategy.clear(item, *identity)
        except (RedisError, OSError) as error:
            self._shared_unreachable(error)
        await self.local.clear(item, *identity)

    def _shared_unreachable(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > 30:
            self._warned_at = now
            log.warning("rate limits: Redis unreachable (%s); counting in this process alone until it is back", error)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


def _async_uri(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url
