"""Redis faults: unreachable at start (a clear error, exit 1), lost while running (unready, local clients
still served, new guests refused clearly), back again (ready, guest counts rewritten, clients asked to
reconnect and catch up on whatever other processes said meanwhile)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx

from tests.cluster.conftest import ADMIN_PASSWORD, live_figures, rest
from tests.conftest import free_port
from tests.processes import ROOT, ParleyProcess
from tests.realtime_client import Client


def test_redis_unreachable_at_start_is_a_clear_error(postgres_url, redis_url):
    closed_port = free_port()
    env = {**ParleyProcess(postgres_url).env, "PARLEY_REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}
    done = subprocess.run([sys.executable, "-m", "server", "serve", "--port", str(free_port())], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"parley: error: cannot reach Redis at redis://127.0.0.1:{closed_port}/0 (PARLEY_REDIS_URL)" in done.stderr
    assert "Traceback" not in done.stderr


async def _ready(process) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{process.base_url}/readyz")).status_code


async def _until(predicate, seconds: float = 10):
    for _ in range(int(seconds * 10)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not in time")


async def test_losing_redis_while_running_and_getting_it_back(postgres_url, private_redis):
    process = ParleyProcess(postgres_url, PARLEY_REDIS_URL=private_redis.url, PARLEY_NODE_LEASE_SECONDS="3",
                            PARLEY_ADMIN_PASSWORD=ADMIN_PASSWORD).start()
    try:
        tenant = process.create_app()
        with rest(process, tenant) as api:
            for user in ("alice", "bob"):
                api.put(f"users/{user}", json={"name": user})
            api.put("conversations/room", json={"participants": ["alice", "bob"]})
        auth = {"appId": tenant["appId"]}
        alice = await Client().connect(process.base_url, {**auth, "me": "alice"})
        bob = await Client().connect(process.base_url, {**auth, "me": "bob"})
        guest = await _rejoining_guest(process, auth)
        for client in (alice, bob):
            assert "error" not in await client.call("conversation:join", {"conversationId": "room"})
        told: list[str] = []
        alice.sio.on("disconnect", lambda reason=None: told.append(reason))
        assert await _ready(process) == 200

        private_redis.kill()
        assert await _ready(process) == 503
        body = httpx.get(f"{process.base_url}/readyz").json()
        assert body["status"] == "unready" and any("Redis" in problem for problem in body["problems"])
        # this process's own clients are still served, and what they send is stored
        sent = await alice.call("message:send", {"conversationId": "room", "text": "while Redis is away"})
        assert "message" in sent
        assert (await bob.next("message:new"))["message"]["text"] == "while Redis is away"
        # a new guest cannot be counted against the limit: refused in words, not admitted beyond it
        newcomer = await Client().connect(process.base_url, {**auth, "me": {"id": "g2", "name": "G2"}})
        refused = await newcomer.call("conversation:join", {"conversationId": "room", "asGuest": True})
        assert refused["error"]["code"] == "TEMPORARILY_UNAVAILABLE"

        private_redis.start()  # empty: it kept nothing
        await _until(lambda: _ready_is(process, 200))
        await _until(lambda: _true(bool(told)))  # asked to reconnect: events from elsewhere may have been missed
        # the guest reconnected and joined again, as the widget does: counted once, in the new Redis
        await _until(lambda: _true(guest.joins == 2))
        await _until(lambda: _guests_are(process, tenant, {"room": 1}))
        for client in (alice, bob, newcomer):
            await client.close()
        await guest.disconnect()
    finally:
        process.stop()
    assert not process.tracebacks(), process.stderr


async def _rejoining_guest(process, auth):
    """A guest that joins again on every (re)connect, as the widget does."""
    import socketio

    guest = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5)
    joined = asyncio.Event()

    guest.joins = 0

    async def on_connect():
        guest.joins += 1
        answer = await guest.call("conversation:join", {"conversationId": "room", "asGuest": True})
        if "error" not in answer:
            joined.set()

    guest.on("connect", lambda: asyncio.ensure_future(on_connect()))
    await guest.connect(process.base_url, auth={**auth, "me": {"id": "g", "name": "G"}}, transports=["websocket"])
    await asyncio.wait_for(joined.wait(), 5)
    return guest


async def _guests_are(process, tenant, expected) -> bool:
    return (await asyncio.to_thread(live_figures, process, tenant["appId"]))["guests"] == expected


async def _ready_is(process, status: int) -> bool:
    return await _ready(process) == status


async def _true(value: bool) -> bool:
    return value
