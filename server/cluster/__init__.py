"""Several Parley processes as one service, over Redis (PARLEY_REDIS_URL).

Each piece replaces one in-memory seam of `server.chat` with a shared one: the event bus
(pub/sub), guest slots and presence (state under this node's lease). Nothing here knows about
sockets; the realtime layer of every process delivers what the bus brings to its own clients.
"""

from __future__ import annotations

import dataclasses

from server.cluster.bus import RedisEventBus
from server.cluster.guests import RedisGuestRegistry
from server.cluster.node import Node, RedisUnavailable
from server.cluster.presence import RedisPresence

__all__ = ["Cluster", "RedisUnavailable"]


@dataclasses.dataclass
class Cluster:
    node: Node
    bus: RedisEventBus
    guests: RedisGuestRegistry
    presence: RedisPresence

    @classmethod
    def create(cls, redis_url: str, lease_seconds: float) -> Cluster:
        node = Node(redis_url, lease_seconds)
        return cls(node, RedisEventBus(node), RedisGuestRegistry(node), RedisPresence(node))

    async def start(self) -> None:
        """Join (raises RedisUnavailable when Redis cannot be reached: the server does not start)."""
        await self.node.start()
        self.presence.start()
        await self.bus.start()

    async def stop(self) -> None:
        """Leave at once: slots freed and users offline now, not when the lease lapses."""
        self.node.stop_heartbeat()  # first: no renewal may write back what is being given back
        await self.guests.release_all()
        await self.presence.stop()
        await self.bus.stop()
        await self.node.stop()

    async def problems(self) -> list[str]:
        if await self.node.ping() and self.node.healthy:
            return []
        return [f"Redis at {self.node.url} is unreachable"]

    def report(self) -> dict:
        return {"node": self.node.id, "healthy": self.node.healthy, "published": self.bus.published, "heard": self.bus.heard}
