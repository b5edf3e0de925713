"""The engine and the packet checks, driven with raw packets over a real websocket.

Each refusal is logged with its reason and no traceback; nothing a refused client sent changes
what other clients see or what is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from tests.conftest import serve
from tests.raw_client import RawClient
from tests.waiting import equals, eventually, guest_count

ALICE = {"id": "alice", "name": "Alice"}


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield caplog
    assert not [r for r in caplog.records if r.exc_info], "a refused client must not log a traceback"


@pytest.fixture
async def alice(server, tenant, api, no_tracebacks):
    api.put("users/alice", json=ALICE)
    api.put("conversations/room", json={"participants": ["alice"]})
    client = await RawClient.open(server.base_url)
    assert (await client.connect({"appId": tenant["appId"], "me": "alice"}))["ok"]
    yield client
    await client.close()


async def test_the_handshake_offers_websocket_only_with_its_heartbeat(server):
    client = await RawClient.open(server.base_url)
    assert client.handshake["upgrades"] == [] and client.handshake["pingInterval"] == 25_000
    await client.close()


@pytest.mark.parametrize("query", ["EIO=3&transport=websocket", "EIO=4&transport=polling", "EIO=4&transport=websocket&sid=x"])
async def test_other_protocol_versions_and_transports_are_refused(server, query):
    with pytest.raises(Exception, match="403"):
        await RawClient.open(server.base_url, query)


def test_long_polling_is_answered_with_a_clear_error(server):
    answer = httpx.get(f"{server.base_url}/socket.io/?EIO=4&transport=polling")
    assert answer.status_code == 400 and "websockets only" in answer.json()["message"]


@pytest.mark.parametrize("name", ["connect", "disconnect", "connect_error", "disconnecting"])
async def test_reserved_event_names_are_refused_before_dispatch(alice, name, no_tracebacks):
    [answer] = await alice.call(name, {}, {"appId": "other", "me": "mallory"})
    assert answer["error"]["code"] == "RESERVED_EVENT"
    # the socket is still Alice's, once: she can join and her identity did not change
    [joined] = await alice.call("conversation:join", {"conversationId": "room"})
    assert joined["me"]["role"] == "participant"
    assert any("reserved event name" in r.getMessage() for r in no_tracebacks.records)


async def test_a_fake_connect_cannot_keep_a_removed_participant_reading(server, tenant, api, alice):
    api.put("conversations/marker", json={"participants": ["alice"]})
    await alice.call("conversation:join", {"conversationId": "room"})
    await alice.call("connect", {}, {"appId": tenant["appId"], "me": "alice"})  # H1: refused
    assert api.delete("conversations/room/participants/alice").status_code == 200
    api.post("conversations/room/messages", json=[{"text": "after the removal", "type": "SystemMessage"}])
    api.post("conversations/marker/messages", json=[{"text": "marker", "type": "SystemMessage"}])
    # the marker arrives through Alice's own room; the removed conversation's message must not come first
    seen = []
    while True:
        text = await alice.recv_until(lambda t: t.startswith('42["message:new"'))
        message = json.loads(text[2:])[1]["message"]
        if message["text"] == "marker":
            break
        seen.append(message["text"])
    assert "after the removal" not in seen


async def test_fake_connects_leak_no_guest_slots(server, tenant, api, no_tracebacks):
    api.put("users/host", json={"name": "Host"})
    api.put("conversations/lobby", json={"participants": ["host"]})
    server.update_app(tenant["appId"], guestLimit=1)
    for i in range(3):
        guest = await RawClient.open(server.base_url)
        assert (await guest.connect({"appId": tenant["appId"], "me": {"id": f"g{i}", "name": "G"}}))["ok"]
        [joined] = await guest.call("conversation:join", {"conversationId": "lobby", "asGuest": True})
        assert "error" not in joined, joined
        await guest.call("connect", {}, {"appId": tenant["appId"], "me": {"id": f"g{i}", "name": "G"}})
        await guest.close()
        await eventually(lambda: equals(guest_count(server, tenant, "lobby"), 0))  # the next guest gets the slot
    await eventually(lambda: equals(_connections(server, tenant), 0))


async def _connections(server, tenant) -> int:
    return await server.app.chat.presence.connections(tenant["appId"])


async def test_unknown_events_and_wrong_arities_are_answered_once(alice):
    [unknown] = await alice.call("no:such:event", {})
    assert unknown["error"]["code"] == "UNKNOWN_EVENT"
    [two] = await alice.call("feed:list", {}, {"extra": True})
    assert two["error"]["code"] == "INVALID_ARGUMENT"
    [none] = await alice.call("unreads:list")
    assert none == {"unreads": [], "truncated": False}


@pytest.mark.parametrize(
    ("packet", "why"),
    [
        (b"\x00\x01binary", "binary frame"),
        ('451-["feed:list",{"x":{"_placeholder":true,"num":0}}]', "BINARY_EVENT packets are not accepted"),
        ("45999999-[\"feed:list\",{}]", "BINARY_EVENT packets are not accepted"),
        ('42["feed:list",', "malformed Socket.IO packet"),
        ("42{}", "must start with the event's name"),
        ("9nonsense", "unknown Engine.IO packet type"),
    ],
)
async def test_packets_parley_never_takes_close_the_connection(alice, packet, why, no_tracebacks):
    await alice.send(packet)
    assert await alice.closed() in (1003, 1008)
    assert any(why in r.getMessage() for r in no_tracebacks.records), [r.getMessage() for r in no_tracebacks.records]


async def test_a_message_over_the_size_limit_is_refused_before_it_is_buffered(alice):
    await alice.send("42" + json.dumps(["feed:list", {"x": "x" * 300_000}]))
    assert await alice.closed() == 1009


async def test_binary_frames_before_the_socketio_connect_log_no_traceback(server, no_tracebacks):
    client = await RawClient.open(server.base_url)
    await client.send(b"\x01" * 1000)
    assert await client.closed() == 1003


async def test_a_flood_is_read_at_the_paced_rate_and_nothing_is_dropped(settings):
    settings = settings.replace(packets_per_second=20)
    with serve(settings) as live:
        tenant = live.create_app()
        client = await RawClient.open(live.base_url)
        assert (await client.connect({"appId": tenant["appId"], "me": {"id": "f", "name": "F"}}))["ok"]
        started = asyncio.get_running_loop().time()
        for i in range(120):  # a burst of 80 (4 x 20) passes at once; the other 40 at 20 a second
            await client.send(f"42{i + 1}" + json.dumps(["unreads:list"]))
        answered = set()
        while len(answered) < 120:
            text = await client.recv_until(lambda t: t.startswith("43"), timeout=10)
            answered.add(int(text[2:text.index("[")]))
        elapsed = asyncio.get_running_loop().time() - started
        assert answered == set(range(1, 121)) and elapsed > 1.5
        await client.close()


async def test_a_client_that_stops_answering_pings_is_dropped(settings):
    with serve(settings.replace(ping_interval=1, ping_timeout=1)) as live:
        tenant = live.create_app()
        client = await RawClient.open(live.base_url)
        assert client.handshake["pingInterval"] == 1000
        assert (await client.connect({"appId": tenant["appId"], "me": {"id": "p", "name": "P"}}))["ok"]
        assert await client.recv(timeout=3) == "2"  # the first ping; never answered
        assert await client.closed(timeout=5) == 1011


async def test_a_socket_that_never_makes_a_socketio_connection_is_dropped(settings):
    with serve(settings.replace(ping_interval=1, ping_timeout=1)) as live:
        client = await RawClient.open(live.base_url)
        assert await client.closed(timeout=4) == 1008


async def test_leaving_the_namespace_closes_the_socket_at_once(alice, server, tenant):
    """A client that sends DISCONNECT for "/" is closed now, not swept up by the heartbeat later."""
    await alice.send("41")
    assert await alice.closed(timeout=2) == 1000
    await eventually(lambda: equals(_connections(server, tenant), 0))
