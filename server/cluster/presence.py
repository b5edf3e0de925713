"""Presence over several processes: each node's share in Redis, under its lease, summed on read.

Every node keeps two hashes: its users online (`app \\0 user` -> open connections) and its open
connections per app. Connects and disconnects change this process's counts at once and are
written to Redis in one pipeline per `FLUSH_SECONDS` (a connect storm of 10,000 costs a few
pipelines, not 10,000 round trips), so another process may see a change that much later. Both
hashes expire with the node's lease: a dead node's users go offline by themselves.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from server.chat.presence import LocalPresence
from server.cluster.node import NODES, NOW, PREFIX, Node

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.5

# KEYS[1] = NODES; ARGV = hash suffix (":users"/":apps"), field. Sum over nodes whose lease holds.
SUM = NOW + """
local total = 0
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  total = total + tonumber(redis.call('HGET', ARGV[1] .. node .. ARGV[2], ARGV[3]) or '0')
end
return total
"""


def _user_field(app_id: str, user_id: str) -> str:
    return f"{app_id}\0{user_id}"


class RedisPresence(LocalPresence):
    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self._sum = node.redis.register_script(SUM)
        self._users_key = f"{PREFIX}node:{node.id}:users"
        self._apps_key = f"{PREFIX}node:{node.id}:apps"
        self._dirty_users: set[tuple[str, str]] = set()
        self._dirty_apps: set[str] = set()
        self._task: asyncio.Task | None = None
        self._writing = asyncio.Lock()  # one write at a time: an older one never lands after a newer one
        node.on_heartbeat(self.renew)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._flushing())

    def connected(self, app_id: str, user_id: str) -> None:
        super().connected(app_id, user_id)
        self._dirty_users.add((app_id, user_id))
        self._dirty_apps.add(app_id)

    def disconnected(self, app_id: str, user_id: str) -> None:
        super().disconnected(app_id, user_id)
        self._dirty_users.add((app_id, user_id))
        self._dirty_apps.add(app_id)

    async def is_online(self, app_id: str, user_id: str) -> bool:
        if self.is_online_here(app_id, user_id):
            return True
        return await self._total(":users", _user_field(app_id, user_id)) > 0

    async def connections(self, app_id: str) -> int:
        return await self._total(":apps", app_id)

    async def _total(self, suffix: str, field: str) -> int:
        try:
            return int(await self._sum(keys=[NODES], args=[f"{PREFIX}node:", suffix, field]))
        except (RedisError, OSError) as error:
            self.node.failed(error, "reading presence")
            return self.users.get(tuple(field.split("\0", 1)), 0) if suffix == ":users" else self.apps.get(field, 0)

    async def _flushing(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if (self._dirty_users or self._dirty_apps) and self.node.healthy:
                try:
                    await self.flush()
                except (RedisError, OSError) as error:
                    self.node.failed(error, "writing presence")

    async def flush(self, everything: bool = False) -> None:
        """This process's changed counts (or all of them) to its hashes, leases renewed."""
        async with self._writing:
            await self._write(everything)

    async def _write(self, everything: bool) -> None:
        users = set(self.users) if everything else self._dirty_users
        apps = set(self.apps) if everything else self._dirty_apps
        self._dirty_users, self._dirty_apps = set(), set()
        pipe = self.node.redis.pipeline(transaction=True)
        if everything:
            pipe.delete(self._users_key, self._apps_key)
        for key, fields, counts in ((self._users_key, users, self.users), (self._apps_key, apps, self.apps)):
            gone = [_field(f) for f in fields if counts.get(f, 0) <= 0]
            here = {_field(f): counts[f] for f in fields if counts.get(f, 0) > 0}
            if gone:
                pipe.hdel(key, *gone)
            if here:
                pipe.hset(key, mapping=here)
            pipe.pexpire(key, self.node.lease_ms)
        try:
            await pipe.execute()
        except BaseException:  # written again in full once Redis answers
            self._dirty_users |= users
            self._dirty_apps |= apps
            raise

    async def renew(self, recovering: bool) -> None:
        await self.flush(everything=recovering)

    async def stop(self) -> None:
        """Shutting down: this node's users are offline now, not when its lease lapses."""
        if self._task is not None:
            self._task.cancel()
        try:
            await self.node.redis.delete(self._users_key, self._apps_key)
        except (RedisError, OSError) as error:
            log.warning("could not clear this node's presence (it lapses with the lease): %s", error)


def _field(key: tuple[str, str] | str) -> str:
    return _user_field(*key) if isinstance(key, tuple) else key
