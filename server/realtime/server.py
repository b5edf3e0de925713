"""The Socket.IO server: python-socketio's protocol layer on Parley's engine, with the fan-out manager."""

from __future__ import annotations

from typing import Any

import orjson
import socketio

from server.realtime._internals import SocketServer
from server.realtime.engine import EngineOptions
from server.realtime.fanout import FanoutManager


class OrjsonModule:
    """python-socketio takes a json module; its `dumps` must return `str`."""

    @staticmethod
    def dumps(value: Any, **_: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def loads(value: str | bytes, **_: Any) -> Any:
        return orjson.loads(value)


def create_sio(options: EngineOptions | None = None, client_manager: socketio.AsyncManager | None = None) -> SocketServer:
    return SocketServer(
        client_manager=client_manager or FanoutManager(),
        json=OrjsonModule,
        engine=options or EngineOptions(),
        logger=False,
    )
