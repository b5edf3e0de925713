"""Bounded answers: a page of messages (or conversations) fits a byte budget as well as a count.

A message may carry up to 10,000 characters of text and 50,000 of custom data, so a page of 100
could reach megabytes; one acknowledgement must stay well under a connection's write cap
(server/realtime/writer.py). Pages keep whole items, at least one, and say when they stopped early.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_PAGE_BYTES = 512 * 1024


def size(item: Any) -> int:
    return len(orjson.dumps(item))


def keep_first(items: list[dict[str, Any]], budget: int = MAX_PAGE_BYTES) -> tuple[list[dict[str, Any]], bool]:
    """The leading items that fit `budget` (at least one); True if some were left out."""
    used = 0
    for index, item in enumerate(items):
        used += size(item)
        if used > budget and index > 0:
            return items[:index], True
    return items, False


def keep_last(items: list[dict[str, Any]], budget: int = MAX_PAGE_BYTES) -> tuple[list[dict[str, Any]], bool]:
    """The trailing items that fit `budget` (at least one); True if some were left out."""
    kept, cut = keep_first(items[::-1], budget)
    return kept[::-1], cut
