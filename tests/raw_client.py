"""A client that speaks Engine.IO 4 / Socket.IO 5 by hand over a real websocket, packet by packet,
for tests that send what a well-behaved client library never would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class RawClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sid: str | None = None
        self._next_ack = 0

    @classmethod
    async def open(cls, base_url: str, query: str = "EIO=4&transport=websocket", **options: Any) -> RawClient:
        url = base_url.replace("http://", "ws://") + "/socket.io/?" + query
        ws = await websockets.connect(url, compression=None, ping_interval=None, max_size=None, **options)
        client = cls(ws)
        opened = await client.recv()
        assert opened.startswith("0"), opened
        client.handshake = json.loads(opened[1:])
        return client

    async def connect(self, auth: dict[str, Any]) -> dict[str, Any]:
        """The Socket.IO CONNECT; returns the server's CONNECT (or CONNECT_ERROR) data."""
        await self.send("40" + json.dumps(auth))
        answer = await self.recv_until(lambda text: text.startswith(("40", "44")))
        return {"ok": answer.startswith("40"), **json.loads(answer[2:])}

    async def send(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def recv(self, timeout: float = 5) -> str:
        message = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(message, str), message
        return message

    async def recv_until(self, predicate, timeout: float = 5) -> str:
        """The next text that satisfies `predicate`; pings are answered on the way."""
        while True:
            text = await self.recv(timeout)
            if text == "2":
                await self.send("3")
            elif predicate(text):
                return text

    async def call(self, event: str, *args: Any) -> Any:
        """An EVENT with an ack id; returns the ack's arguments (a list)."""
        self._next_ack += 1
        ack = self._next_ack
        await self.send(f"42{ack}" + json.dumps([event, *args]))
        answer = await self.recv_until(lambda text: text.startswith(f"43{ack}["))
        return json.loads(answer[len(f"43{ack}"):])

    async def events(self, name: str, until: str, timeout: float = 5) -> list[Any]:
        """Every `name` event received before the first `until` event (a marker proving delivery)."""
        seen = []
        while True:
            text = await self.recv_until(lambda t: t.startswith("42["), timeout)
            event, *args = json.loads(text[2:])
            if event == until:
                return seen
            if event == name:
                seen.append(args[0] if args else None)

    async def closed(self, timeout: float = 5) -> int | None:
        """Wait until the server closes the connection; its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    async def close(self) -> None:
        await self.ws.close()
