"""How Parley runs under uvicorn: one place, used by `parley serve` and by the test servers."""

from __future__ import annotations

import gc
import sys
from typing import Any

import uvicorn

from server.realtime.engine import EngineOptions

UVICORN_OPTIONS: dict[str, Any] = {
    # The sans-I/O websocket protocol keeps per-connection state small, and lets the fan-out
    # manager write frames straight to a connection's transport (server/realtime/fanout.py).
    "ws": "websockets-sansio",
    # Compression costs ~36 KB and CPU per connection (PERFORMANCE.md, finding 1).
    "ws_per_message_deflate": False,
    # Engine.IO runs its own heartbeat; websocket-level pings would double the idle work.
    "ws_ping_interval": None,
    # A bigger message is refused by the websocket parser before it is buffered (close code 1009).
    "ws_max_size": EngineOptions.max_message_bytes,
    "loop": "uvloop",
    "http": "httptools",
    "proxy_headers": False,
}


def uvicorn_config(app: Any, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, **UVICORN_OPTIONS)


def tune_gc() -> None:
    """Collect the young generation every 100,000 allocations instead of every 700.

    With thousands of connections alive, each collection that reaches the older generations walks
    hundreds of thousands of long-lived objects; measured at 10,000 idle guests this halves idle CPU
    and cuts CPU per broadcast delivery by more than half (docs/performance.md). Cyclic garbage
    waits a little longer; everything else is still freed at once by reference counting.
    """
    gc.set_threshold(100_000, 50, 1000)


def tune_switching() -> None:
    """Hand the GIL back to the event loop sooner (0.5 ms instead of 5 ms).

    Queries run on worker threads; each time the event loop makes a system call it lets a worker
    take the GIL, and then waits up to the switch interval to get it back. With thousands of
    connections arriving at once, that wait, not the work, was what stretched connect times.
    """
    sys.setswitchinterval(0.0005)
