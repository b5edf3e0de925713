"""Shared state across processes: the guest limit is global and exact, a killed process's slots lapse
with its lease, and a stopped process gives its slots back at once."""

from __future__ import annotations

import asyncio
import time

import socketio

from tests.cluster.conftest import live_figures, rest
from tests.realtime_client import Client

GENEROUS = {"connectionsPerAddress": "10000/minute", "usersCreatedPerAddress": "10000/minute",
            "joinsPerConnection": "1000/minute"}


async def _guest(process, tenant, name: str) -> tuple[Client, dict]:
    client = await Client().connect(process.base_url, {"appId": tenant["appId"], "me": {"id": name, "name": name}})
    answer = await client.call("conversation:join", {"conversationId": "lobby", "asGuest": True})
    return client, answer


async def _guests_online(process, tenant, expected: int, within: float) -> float:
    """Seconds until the dashboard (on `process`) shows `expected` guests in the lobby."""
    started = time.monotonic()
    while True:
        figures = await asyncio.to_thread(live_figures, process, tenant["appId"])
        if figures["guests"].get("lobby", 0) == expected:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"guests online {figures['guests']}, expected {expected}"
        await asyncio.sleep(0.1)


def _lobby(process, tenant, guest_limit: int) -> None:
    process.set_app(tenant["appId"], guestLimit=str(guest_limit), **GENEROUS)
    with rest(process, tenant) as api:
        assert api.put("conversations/lobby", json={"participants": []}).status_code == 200


async def test_the_guest_limit_holds_exactly_across_processes(cluster):
    one, two = cluster.start(2)
    tenant = one.create_app()
    _lobby(one, tenant, 50)
    joined = await asyncio.gather(*(_guest(one if i % 2 else two, tenant, f"g{i}") for i in range(80)))
    admitted = [client for client, answer in joined if "error" not in answer]
    refused = [answer["error"]["code"] for _, answer in joined if "error" in answer]
    assert (len(admitted), refused) == (50, ["GUEST_LIMIT_REACHED"] * 30)
    await _guests_online(two, tenant, 50, within=5)
    # ten leave (on either process): exactly ten more get in, wherever they arrive
    for client in admitted[:10]:
        await client.close()
    await _guests_online(one, tenant, 40, within=5)
    later = await asyncio.gather(*(_guest(one if i % 2 else two, tenant, f"later{i}") for i in range(15)))
    assert sum("error" not in answer for _, answer in later) == 10
    for client in [*(c for c, _ in joined), *(c for c, _ in later)]:
        await client.close()  # the refused ones too (closing twice is harmless)


async def test_a_killed_process_frees_its_guest_slots_within_the_lease(cluster):
    one, two = cluster.start(2, PARLEY_NODE_LEASE_SECONDS="3")
    tenant = one.create_app()
    _lobby(one, tenant, 10)
    on_one = [await _guest(one, tenant, f"one{i}") for i in range(6)]
    on_two = [await _guest(two, tenant, f"two{i}") for i in range(4)]
    assert all("error" not in answer for _, answer in [*on_one, *on_two])
    eleventh = await _guest(two, tenant, "eleventh")
    assert "error" in eleventh[1]  # full
    one.kill()
    released_after = await _guests_online(two, tenant, 4, within=3 + 1 + 2)  # lease + one heartbeat + slack
    refill = [await _guest(two, tenant, f"refill{i}") for i in range(6)]
    assert all("error" not in answer for _, answer in refill)
    over = await _guest(two, tenant, "over")
    assert "error" in over[1]
    assert released_after <= 5, released_after
    for client, _ in [*on_one, *on_two, *refill, eleventh, over]:
        await client.close()  # those of the killed process too: their sockets are gone, the clients are not


async def test_sigterm_gives_slots_back_at_once_and_tells_clients_to_reconnect(cluster):
    one, two = cluster.start(2, PARLEY_NODE_LEASE_SECONDS="120")  # a lapse would take minutes
    tenant = one.create_app()
    _lobby(one, tenant, 10)
    leaving = [await _guest(one, tenant, f"one{i}") for i in range(5)]
    staying = [await _guest(two, tenant, f"two{i}") for i in range(3)]
    told: list[str] = []
    for client, _ in leaving:
        client.sio.on("disconnect", lambda reason=None: told.append(str(reason)))
    started = time.monotonic()
    await asyncio.to_thread(one.stop, 15)
    stopped_in = time.monotonic() - started
    await _guests_online(two, tenant, 3, within=2)
    # the socket closed under them (1012), not a Socket.IO disconnect: socket.io-client reconnects by itself
    assert told == [socketio.AsyncClient.reason.TRANSPORT_ERROR] * 5
    assert stopped_in < 10 and not one.tracebacks(), one.stderr
    for client, _ in [*leaving, *staying]:
        await client.close()
