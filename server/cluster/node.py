"""This process as one node of several sharing Redis: its id, its lease, its heartbeat.

Every node renews a lease in Redis every `heartbeat` seconds; what it holds there (guest slots,
its share of presence and of the live figures) carries the same lease. A node that dies (kill -9,
a lost machine) stops renewing, and everything it held lapses `lease` seconds after its last
heartbeat, with no cleanup by anyone. A node that stops cleanly gives it all back at once.

While Redis is unreachable the node reports unready (`/readyz`), keeps serving its own clients
where it safely can, and retries; the first heartbeat that succeeds again rewrites everything the
node holds, so counts are right again without anyone's help.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable

import redis.asyncio
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "parley:"
POOL_SIZE = 128
POOL_WAIT_SECONDS = 30
NODES = PREFIX + "nodes"  # sorted set: node id -> lease expiry (ms, Redis clock)

# Every script reads Redis's clock, not ours: nodes on different machines agree on when a lease lapses.
NOW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
"""
# Renews this node's lease; KEYS[1] = NODES, ARGV = node id, lease ms.
# Returns {now, 1 if the node was not registered (its lease had lapsed: what it held is gone)}.
RENEW = NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {now, added}
"""

Beat = Callable[[bool], Awaitable[None]]  # called each heartbeat; True: Redis was lost since the last one


class RedisUnavailable(RuntimeError):
    """PARLEY_REDIS_URL is set and Redis cannot be reached."""


def unreachable(redis_url: str) -> str | None:
    """Why Redis at this URL cannot be used (checked before serving), or None."""
    import redis as sync_redis

    try:
        with sync_redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2) as client:
            client.ping()
    except (RedisError, OSError, ValueError) as error:
        return f"cannot reach Redis at {redis_url} (PARLEY_REDIS_URL): {error}"
    return None


class Node:
    def __init__(self, redis_url: str, lease_seconds: float = 15.0, heartbeat_seconds: float | None = None) -> None:
        self.id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.url = redis_url
        # A bounded pool that waits for a free connection: a lobby's guests arriving at once queue for one
        # (each call is short) instead of failing once the pool is used up.
        # The wait is long: under a reconnect storm the event loop itself is the queue, and a join that
        # waits is better than one refused as if Redis were down.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            redis_url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS, socket_timeout=2, socket_connect_timeout=2,
            health_check_interval=10, socket_keepalive=True)
        self.redis = redis.asyncio.Redis.from_pool(pool)  # owns the pool: aclose() disconnects every connection
        # Pub/sub ignores Redis's database numbers: deployments on one Redis (db 0 and db 1, say)
        # would hear each other's events unless the channel names the database.
        self.database = int(self.redis.connection_pool.connection_kwargs.get("db") or 0)
        self.lease_ms = int(lease_seconds * 1000)
        self.heartbeat_seconds = heartbeat_seconds or max(lease_seconds / 3, 0.2)
        self.healthy = False
        self.lost_at: float | None = None  # when Redis was last found unreachable (monotonic)
        self._renew = self.redis.register_script(RENEW)
        self._beats: list[Beat] = []
        self._task: asyncio.Task | None = None

    def on_heartbeat(self, beat: Beat) -> None:
        self._beats.append(beat)

    async def start(self) -> None:
        """Register, or raise RedisUnavailable with what went wrong (the server then exits)."""
        try:
            await self.redis.ping()
            await self._renew(keys=[NODES], args=[self.id, self.lease_ms])
        except (RedisError, OSError) as error:
            raise RedisUnavailable(f"cannot reach Redis at {self.url} (PARLEY_REDIS_URL): {error}") from None
        self.healthy = True
        self._task = asyncio.ensure_future(self._heartbeat())
        log.info("node %s joined (lease %.1f s, heartbeat %.1f s)", self.id, self.lease_ms / 1000, self.heartbeat_seconds)

    def failed(self, error: BaseException, doing: str) -> None:
        """A Redis call failed: unready until the next heartbeat succeeds."""
        if self.healthy:
            log.warning("Redis unreachable while %s: %s (serving local clients; retrying)", doing, error)
        self.healthy = False
        self.lost_at = time.monotonic()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.beat()
            except Exception:  # a bug in one beat must not end the heartbeat (the lease would lapse)
                log.exception("heartbeat failed")

    async def beat(self) -> None:
        recovering = not self.healthy
        try:
            _, lapsed = await self._renew(keys=[NODES], args=[self.id, self.lease_ms])
            if lapsed and not recovering:  # a stall longer than the lease: everything it held expired
                log.warning("node %s's lease had lapsed (a stall of over %.0f s): rewriting what it holds",
                            self.id, self.lease_ms / 1000)
                recovering = True
            for beat in self._beats:
                await beat(recovering)
        except (RedisError, OSError) as error:
            self.failed(error, "renewing this node's lease")
            return
        if recovering:
            log.warning("Redis reachable again: node %s's guest slots and presence rewritten", self.id)
        self.healthy = True

    async def live_nodes(self) -> list[str]:
        """Nodes whose lease has not lapsed (this one included)."""
        now, _ = await self._renew(keys=[NODES], args=[self.id, self.lease_ms])
        return [n.decode() for n in await self.redis.zrangebyscore(NODES, now, "+inf")]

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    def stop_heartbeat(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        """Leave now: the lease and what it carries are given back by the stop callbacks and here."""
        self.stop_heartbeat()
        try:
            await self.redis.zrem(NODES, self.id)
        except (RedisError, OSError) as error:
            log.warning("could not deregister node %s (its lease lapses by itself): %s", self.id, error)
        await self.redis.aclose()
