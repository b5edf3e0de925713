"""Guest slots in Redis: one concurrent-guest limit per conversation, exact over every process.

A conversation's slots are a sorted set: member (a connection id) -> lease expiry on Redis's clock.
Admission is one Lua script (expired slots out, then count and add, atomically), so 80 guests
arriving at once on two processes for 50 slots get exactly 50. Each process renews its own
members' leases on its heartbeat and remembers them locally, which answers "is this connection a
guest here?" without a round trip. A dead process's slots lapse with its lease.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from redis.exceptions import RedisError

from server.chat.errors import Unavailable
from server.chat.guests import conversation_key
from server.cluster.node import NOW, PREFIX, Node

# KEYS[1] = the conversation's slots, KEYS[2] = the app's index of conversations with guests;
# ARGV = member, limit, lease ms, conversation id. 1: admitted (or already was), 0: full.
ADMIT = NOW + """
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""
# Renews (or, after Redis was lost, restores) one conversation's slots held by this process.
# KEYS as ADMIT; ARGV = lease ms, conversation id, members...
RENEW = NOW + """
local lease = tonumber(ARGV[1])
for i = 3, #ARGV, 500 do
  local batch = {}
  for j = i, math.min(i + 499, #ARGV) do
    batch[#batch + 1] = now + lease
    batch[#batch + 1] = ARGV[j]
  end
  redis.call('ZADD', KEYS[1], unpack(batch))
end
redis.call('PEXPIRE', KEYS[1], lease)
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""
# Live slots per conversation of one app; KEYS[1] = the app's index, ARGV = slots key prefix.
COUNTS = NOW + """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local n = redis.call('ZCOUNT', ARGV[1] .. id, now, '+inf')
  if n > 0 then
    out[#out + 1] = id
    out[#out + 1] = n
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
"""


def unavailable() -> Unavailable:
    return Unavailable("guest places cannot be checked right now; please try again in a moment")


class RedisGuestRegistry:
    def __init__(self, node: Node) -> None:
        self.node = node
        redis = node.redis
        self._admit, self._renew, self._counts = (redis.register_script(s) for s in (ADMIT, RENEW, COUNTS))
        self._local: defaultdict[str, set[str]] = defaultdict(set)  # key -> members held by this process
        self._ids: dict[str, tuple[str, str]] = {}  # key -> (app id, conversation id)
        self._lock = asyncio.Lock()  # a release and a renewal never cross (a freed slot is not renewed)
        node.on_heartbeat(self.renew)

    @staticmethod
    def _keys(app_id: str, conversation_id: str) -> list[str]:
        return [f"{PREFIX}guests:{conversation_key(app_id, conversation_id)}", f"{PREFIX}guest-index:{app_id}"]

    def _slots_prefix(self, app_id: str) -> str:
        return f"{PREFIX}guests:{conversation_key(app_id, '')}"

    async def admit(self, key: str, member: str, limit: int) -> bool:
        if not self.node.healthy:  # Redis may have come back empty: the slots held are not all rewritten yet
            raise unavailable()
        app_id, conversation_id = _split(key)
        try:
            admitted = await self._admit(keys=self._keys(app_id, conversation_id),
                                         args=[member, limit, self.node.lease_ms, conversation_id])
        except (RedisError, OSError) as error:
            self.node.failed(error, "admitting a guest")
            raise unavailable() from None
        if admitted:
            self._local[key].add(member)
            self._ids[key] = (app_id, conversation_id)
        return bool(admitted)

    async def release(self, key: str, member: str) -> None:
        async with self._lock:
            members = self._local.get(key)
            if members is None or member not in members:
                return
            members.discard(member)
            if not members:
                del self._local[key]
            app_id, conversation_id = self._ids[key] if members else self._ids.pop(key)
            try:
                await self.node.redis.zrem(self._keys(app_id, conversation_id)[0], member)
            except (RedisError, OSError) as error:  # the slot lapses with its lease, or the next renewal skips it
                self.node.failed(error, "freeing a guest slot")

    async def is_admitted(self, key: str, member: str) -> bool:
        return member in self._local.get(key, ())

    async def count(self, key: str) -> int:
        app_id, conversation_id = _split(key)
        counts = await self.counts(app_id)
        return counts.get(conversation_id, 0)

    async def drop(self, key: str) -> None:
        """A deleted conversation: every process drops its own; the set itself goes too."""
        app_id, conversation_id = _split(key)
        async with self._lock:
            self._local.pop(key, None)
            self._ids.pop(key, None)
            try:
                await self.node.redis.delete(self._keys(app_id, conversation_id)[0])
            except (RedisError, OSError) as error:
                self.node.failed(error, "dropping a deleted conversation's guest slots")

    async def counts(self, app_id: str) -> dict[str, int]:
        try:
            flat = await self._counts(keys=[f"{PREFIX}guest-index:{app_id}"], args=[self._slots_prefix(app_id)])
        except (RedisError, OSError) as error:
            self.node.failed(error, "counting guests")
            raise unavailable() from None
        return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def renew(self, recovering: bool) -> None:
        """The heartbeat: this process's slots, leases renewed (and restored if Redis lost them)."""
        async with self._lock:
            pipe = self.node.redis.pipeline(transaction=False)
            for key, members in self._local.items():
                app_id, conversation_id = self._ids[key]
                await self._renew(keys=self._keys(app_id, conversation_id),
                                  args=[self.node.lease_ms, conversation_id, *members], client=pipe)
            await pipe.execute()

    async def release_all(self) -> None:
        """Shutting down: give every slot of this process back at once."""
        async with self._lock:
            pipe = self.node.redis.pipeline(transaction=False)
            for key, members in self._local.items():
                pipe.zrem(self._keys(*self._ids[key])[0], *members)
            self._local.clear()
            self._ids.clear()
            try:
                await pipe.execute()
            except (RedisError, OSError) as error:
                self.node.failed(error, "freeing guest slots at shutdown (they lapse with the lease)")


def _split(key: str) -> tuple[str, str]:
    """conversation_key's inverse: "<len>:<app id>:<conversation id>"."""
    length, rest = key.split(":", 1)
    n = int(length)
    return rest[:n], rest[n + 1 :]
