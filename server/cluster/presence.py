"""Presence over several processes: each node's share in Redis, under its lease, summed on read.

Every node keeps three hashes: its users online (`app \\0 user` -> open connections), its open
connections per app, and who views each conversation (`app \\0 conversation` -> user ids,
\\0-joined). Connects and disconnects change this process's counts at once and are
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

# KEYS[1] = NODES; ARGV = hash prefix, suffix, field. Every live node's value of the field.
COLLECT = NOW + """
local values = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  local value = redis.call('HGET', ARGV[1] .. node .. ARGV[2], ARGV[3])
  if value then table.insert(values, value) end
end
return values
"""


def _user_field(app_id: str, user_id: str) -> str:
    return f"{app_id}\0{user_id}"


class RedisPresence(LocalPresence):
    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self._sum = node.redis.register_script(SUM)
        self._collect = node.redis.register_script(COLLECT)
        self._views_key = f"{PREFIX}node:{node.id}:views"
        self._dirty_views: set[tuple[str, str]] = set()
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

    def viewing(self, app_id: str, conversation_id: str, user_id: str, views: bool) -> None:
        super().viewing(app_id, conversation_id, user_id, views)
        self._dirty_views.add((app_id, conversation_id))

    async def viewers(self, app_id: str, conversation_id: str) -> frozenset[str]:
        here = self.viewers_here(app_id, conversation_id)
        try:
            values = await self._collect(keys=[NODES], args=[f"{PREFIX}node:", ":views", _user_field(app_id, conversation_id)])
        except (RedisError, OSError) as error:
            self.node.failed(error, "reading presence")
            return here
        return here.union(*((v.decode() if isinstance(v, bytes) else v).split("\0") for v in values))

    async def _total(self, suffix: str, field: str) -> int:
        try:
            return int(await self._sum(keys=[NODES], args=[f"{PREFIX}node:", suffix, field]))
        except (RedisError, OSError) as error:
            self.node.failed(error, "reading presence")
            return self.users.get(tuple(field.split("\0", 1)), 0) if suffix == ":users" else self.apps.get(field, 0)

    async def _flushing(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if (self._dirty_users or self._dirty_apps or self._dirty_views) and self.node.healthy:
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
        views = set(self.views) if everything else self._dirty_views
        self._dirty_users, self._dirty_apps, self._dirty_views = set(), set(), set()
        pipe = self.node.redis.pipeline(transaction=True)
        if everything:
            pipe.delete(self._users_key, self._apps_key, self._views_key)
        for key, fields, counts in ((self._users_key, users, self.users), (self._apps_key, apps, self.apps)):
            gone = [_field(f) for f in fields if counts.get(f, 0) <= 0]
            here = {_field(f): counts[f] for f in fields if counts.get(f, 0) > 0}
            if gone:
                pipe.hdel(key, *gone)
            if here:
                pipe.hset(key, mapping=here)
            pipe.pexpire(key, self.node.lease_ms)
        self._write_views(pipe, views)
        try:
            await pipe.execute()
        except BaseException:  # written again in full once Redis answers
            self._dirty_users |= users
            self._dirty_apps |= apps
            self._dirty_views |= views
            raise

    def _write_views(self, pipe, keys: set[tuple[str, str]]) -> None:
        gone = [_user_field(*k) for k in keys if not self.views.get(k)]
        here = {_user_field(*k): "\0".join(sorted(self.views[k])) for k in keys if self.views.get(k)}
        if gone:
            pipe.hdel(self._views_key, *gone)
        if here:
            pipe.hset(self._views_key, mapping=here)
        pipe.pexpire(self._views_key, self.node.lease_ms)

    async def renew(self, recovering: bool) -> None:
        await self.flush(everything=recovering)

    async def stop(self) -> None:
        """Shutting down: this node's users are offline now, not when its lease lapses."""
        if self._task is not None:
            self._task.cancel()
        try:
            await self.node.redis.delete(self._users_key, self._apps_key, self._views_key)
        except (RedisError, OSError) as error:
            log.warning("could not clear this node's presence (it lapses with the lease): %s", error)


def _field(key: tuple[str, str] | str) -> str:
    return _user_field(*key) if isinstance(key, tuple) else key
