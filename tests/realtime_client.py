"""A python-socketio client that records what the server sends, for the realtime tests."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import socketio

RECORDED = (
    "message:new",
    "message:updated",
    "message:deleted",
    "conversation:updated",
    "conversation:deleted",
    "participant:added",
    "participant:updated",
    "participant:removed",
    "conversation:read",
    "typing",
)


class Client:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: dict[str, asyncio.Queue] = defaultdict(asyncio.Queue)
        self.log: list[tuple[str, Any]] = []  # every event, in the order it arrived
        self._arrived = asyncio.Event()
        for name in (*RECORDED, "connect_error"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str):
        async def record(data: Any) -> None:
            self.received[name].put_nowait(data)
            self.log.append((name, data))
            self._arrived.set()

        return record

    async def connect(self, base_url: str, auth: dict[str, Any]) -> Client:
        await self.sio.connect(base_url, auth=auth, transports=["websocket"], wait_timeout=5)
        return self

    async def call(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, timeout=5)

    async def next(self, event: str, timeout: float = 5) -> Any:
        return await asyncio.wait_for(self.received[event].get(), timeout)

    async def next_where(self, event: str, predicate, timeout: float = 5) -> Any:
        """The next `event` whose data satisfies `predicate` (earlier ones are skipped)."""
        while True:
            data = await self.next(event, timeout)
            if predicate(data):
                return data

    async def before_marker(self, marker: str, predicate, timeout: float = 5) -> list[tuple[str, Any]]:
        """Every event that arrived before the first `marker` event satisfying `predicate`.

        For negative checks: send the marker after the thing that must not arrive. A socket receives its
        events in order, so once the marker is here the thing had its chance, without guessing a delay."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, (name, data) in enumerate(self.log):
                if name == marker and predicate(data):
                    return self.log[:index]
            self._arrived.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"the marker {marker} never arrived"
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        await self.sio.disconnect()


async def connect(server, app_id: str, me: Any, **auth: Any) -> Client:
    return await Client().connect(server.base_url, {"appId": app_id, "me": me, **auth})
