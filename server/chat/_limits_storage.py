"""The one place Parley reaches into the `limits` library: its in-memory storage's expiry schedule.

`limits.aio.storage.MemoryStorage` starts a sweep over every key after each hit whose previous
sweep has finished. With a key per connection and per address, that is a pass over ~10,000 keys
per hit during a connect storm (most of a core). Expired counts are already ignored when read
(`get` checks each key's expiry), so the sweep only gives memory back: here it runs at most once
every `SWEEP_SECONDS`. Written for limits 5.8 (pyproject.toml bounds it); `check()` runs at
start-up and `tests/test_ratelimits.py` runs the storage for real.
"""

from __future__ import annotations

import time
from typing import Any

from limits.aio.storage import MemoryStorage

SWEEP_SECONDS = 10.0
_SCHEDULE = "_MemoryStorage__schedule_expiry"  # the name-mangled private method this replaces


def check() -> None:
    if not callable(getattr(MemoryStorage, _SCHEDULE, None)):
        raise RuntimeError("limits' MemoryStorage no longer has the expiry schedule Parley replaces: "
                           "pin limits to 5.8 (see server/chat/_limits_storage.py)")


class SweepingMemoryStorage(MemoryStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._swept_at = time.monotonic()

    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the name it overrides)
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            await MemoryStorage._MemoryStorage__schedule_expiry(self)  # type: ignore[attr-defined]

    def keys(self) -> int:
        """How many counters are held (for tests and the dashboard's live figures)."""
        return len(self.storage)
