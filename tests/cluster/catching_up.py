"""A guest that behaves as the widget does across reconnects: socket.io-client's reconnection, then a
join with `afterMessageId` of the newest message it has, paging with `messages:list` until complete, and
messages shown once each (by id) however they arrive."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio


class CatchingUpGuest:
    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1,
                                        randomization_factor=0.5)
        self.ids: list[str] = []  # shown, in arrival order, once each
        self.deliveries = 0  # every copy received (live or caught up)
        self.connects = 0
        self.ready = asyncio.Event()
        self.sio.on("connect", self._on_connect)
        self.sio.on("message:new", self._on_message)

    async def connect(self, url: str, auth: dict[str, Any]) -> CatchingUpGuest:
        await self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
        await asyncio.wait_for(self.ready.wait(), 10)
        return self

    def _show(self, message_id: str) -> None:
        self.deliveries += 1
        if message_id not in self.ids:
            self.ids.append(message_id)

    async def _on_message(self, data: dict) -> None:
        self._show(data["message"]["id"])

    def _on_connect(self) -> None:
        self.connects += 1
        asyncio.ensure_future(self._join())

    async def _join(self) -> None:
        request: dict[str, Any] = {"conversationId": self.conversation_id, "asGuest": True}
        if self.ids:
            request["afterMessageId"] = self.ids[-1]
        answer = await self.sio.call("conversation:join", request, timeout=10)
        assert "error" not in answer, answer
        for message in answer.get("missed", []):
            self._show(message["id"])
        complete = answer.get("missedComplete", True)
        while not complete:
            page = await self.sio.call("messages:list", {"conversationId": self.conversation_id,
                                                         "afterMessageId": self.ids[-1], "limit": 100}, timeout=10)
            for message in page["messages"]:
                self._show(message["id"])
            complete = not page["hasNewer"]
        self.ready.set()

    async def close(self) -> None:
        await self.sio.disconnect()
