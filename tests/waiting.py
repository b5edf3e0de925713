"""Waiting for the server to reach a state, without fixed sleeps."""

from __future__ import annotations

import asyncio

from server.chat.guests import conversation_key


async def eventually(predicate, timeout: float = 5.0) -> None:
    """Until the async `predicate()` is true (or fail after `timeout`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def guest_count(server, tenant, conversation: str = "group") -> int:
    return await server.app.chat.guests.count(conversation_key(tenant["appId"], conversation))


async def equals(awaitable, value) -> bool:
    return await awaitable == value
