"""The Socket.IO server. The fan-out manager is injected (python-socketio's `client_manager`)."""

from __future__ import annotations

from typing import Any

import orjson
import socketio

from server.realtime.fanout import FanoutManager


class OrjsonModule:
    """python-socketio takes a json module; its `dumps` must return `str`."""

    @staticmethod
    def dumps(value: Any, **_: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def loads(value: str | bytes, **_: Any) -> Any:
        return orjson.loads(value)


def create_sio(client_manager: socketio.AsyncManager | None = None) -> socketio.AsyncServer:
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=client_manager or FanoutManager(),
        json=OrjsonModule,
        # Any origin may reach the server: the widget is embedded on site owners' pages. Each app's
        # allowed origins are checked per connection in the connect handler (chat.sessions).
        cors_allowed_origins="*",
        max_http_buffer_size=256_000,
        # Websocket only: the widget connects that way, and a websocket's own reader notices a silent
        # client within ping interval + timeout, so engine.io's client monitor (a wake-up per client
        # per ping timeout, ~500/s at 10,000 clients) has nothing left to do.
        transports=["websocket"],
        monitor_clients=False,
        logger=False,
        engineio_logger=False,
    )
