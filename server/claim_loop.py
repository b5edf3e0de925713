"""What the notifier and the webhook sender share: a loop that claims work from an outbox table and
runs each claim as its own task, and a stop that claims nothing more, lets running deliveries finish
for a while, and gives the rest back (their claims released for the next process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable


class ClaimLoop:
    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self.delivering: dict[Hashable, asyncio.Task] = {}
        self._task: asyncio.Task | None = None

    def start(self, run: Awaitable[None], name: str) -> None:
        self._task = asyncio.create_task(run, name=name)

    def dispatch(self, claims: list, deliver: Callable[[Hashable], Awaitable[object]]) -> None:
        """A task per claim (one already being delivered here is not started twice)."""
        for claim in claims:
            if claim in self.delivering:
                continue
            task = asyncio.create_task(deliver(claim))
            self.delivering[claim] = task
            task.add_done_callback(lambda _, c=claim: self.delivering.pop(c, None))

    async def pause(self, seconds: float) -> None:
        """Until the next round, or the stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def stop(self, wait_seconds: float, release: Callable[[list], Awaitable[object]]) -> None:
        self.stopping.set()
        if self._task is not None:  # not cancelled: a claim being written must come back to be delivered
            await self._task
        if self.delivering:
            await asyncio.wait(list(self.delivering.values()), timeout=wait_seconds)
        unfinished = list(self.delivering)
        for task in self.delivering.values():
            task.cancel()
        if unfinished:
            await release(unfinished)
