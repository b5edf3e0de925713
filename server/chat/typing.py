"""Typing indicators, coalesced: while a user types in a conversation the others hear of it at
most once every `START_EVERY` seconds, and of its end once.

The widget repeats "typing" every 3 s while someone types (its indicator expires after 6 s), so
a person is never slowed; a client sending thousands a second costs one broadcast per 2.5 s.
Guests' typing never reaches anyone (chat.access.typing_event) and is not counted here.
"""

from __future__ import annotations

import time

START_EVERY = 2.5
FORGET_AFTER = 10.0  # a start never followed by a stop is forgotten (the widget's indicator is long gone)
PRUNE_EVERY = 10.0

Key = tuple[str, str, str]  # app id, conversation id, user id


class TypingCoalescer:
    def __init__(self) -> None:
        self._started: dict[Key, float] = {}  # when a start was last passed on
        self._pruned_at = time.monotonic()
        self.swallowed = 0

    def should_forward(self, key: Key, is_typing: bool, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        started = self._started.get(key)
        if is_typing:
            if started is not None and now - started < START_EVERY:
                self.swallowed += 1
                return False
            self._started[key] = now
            self._prune(now)
            return True
        if started is None:  # nothing shown, nothing to take back
            self.swallowed += 1
            return False
        del self._started[key]
        return True

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        for key in [k for k, at in self._started.items() if now - at > FORGET_AFTER]:
            del self._started[key]
