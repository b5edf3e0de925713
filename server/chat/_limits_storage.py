"""The one place Parley reaches into the `limits` library: its in-memory storage's expiry sweep.

`limits.aio.storage.MemoryStorage` starts a sweep over every key after each hit whose previous
sweep has finished, and the sweep hands each key's list of hits to a worker thread. With a key
per connection and per address, that is ~10,000 thread hand-offs per hit during a connect storm
(most of a core). Expired hits are already ignored when read (a moving window looks only inside
its window), so the sweep only gives memory back: here it runs at most once every
`SWEEP_SECONDS`, on the event loop, trimming each list in place. Written for limits 5.8
(pyproject.toml bounds it); `check()` runs at start-up and `tests/test_ratelimits.py` runs the
storage for real.
"""

from __future__ import annotations

import bisect
import time
from typing import Any

from limits.aio.storage import MemoryStorage

SWEEP_SECONDS = 10.0
# The name-mangled private methods replaced here, and the attributes the sweep reads.
_SCHEDULE, _EXPIRE = "_MemoryStorage__schedule_expiry", "_MemoryStorage__expire_events"
_ATTRIBUTES = ("events", "expirations", "storage", "locks")


def check() -> None:
    probe = MemoryStorage()
    missing = [name for name in (_SCHEDULE, _EXPIRE) if not callable(getattr(MemoryStorage, name, None))]
    missing += [name for name in _ATTRIBUTES if not hasattr(probe, name)]
    if missing:
        raise RuntimeError(f"limits' MemoryStorage lacks {missing}, which Parley's sweep replaces: "
                           "pin limits to 5.8 (see server/chat/_limits_storage.py)")


class SweepingMemoryStorage(MemoryStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._swept_at = time.monotonic()

    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the name it replaces)
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            self.sweep()

    def sweep(self) -> None:
        """Drop expired hits and counters; keys left empty go with their locks."""
        now = time.time()
        for key, events in list(self.events.items()):
            # newest first (hits are prepended): keep those whose expiry is still ahead
            del events[bisect.bisect_left(events, -now, key=lambda event: -event.expiry):]
            if not events and not self.locks[key].locked():
                del self.events[key]
                self.locks.pop(key, None)
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                del self.expirations[key]
                self.locks.pop(key, None)

    def keys(self) -> int:
        """How many keys hold hits or counts (for tests and live figures)."""
        return len(self.events) + len(self.storage)
