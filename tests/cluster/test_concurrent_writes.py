"""Two processes writing to one PostgreSQL at once: every rule that was safe with one writer still holds.
Transactions, row locks and constraints do it (server/db/queries.lock_conversation, db/writer retries),
not locks in one process's memory."""

from __future__ import annotations

import asyncio

import httpx

from tests.cluster.conftest import rest
from tests.realtime_client import Client

FAST = {"messagesPerConnection": "100000/second", "messagesPerUser": "100000/second",
        "connectionsPerAddress": "10000/minute", "usersCreatedPerAddress": "10000/minute", "restCallsPerApp": "10000/second"}


async def _client(process, tenant, me) -> Client:
    return await Client().connect(process.base_url, {"appId": tenant["appId"], "me": me})


def _all_messages(api: httpx.Client) -> list[dict]:
    """Every message, oldest first, paging over REST."""
    found, cursor = [], None
    while True:
        page = api.get("conversations/room/messages", params={"limit": 100, **({"startingAfter": cursor} if cursor else {})})
        data = page.json()["data"]
        if not data:
            return found[::-1]
        found += data
        cursor = data[-1]["id"]


async def test_sends_from_both_processes_are_ordered_once_each_and_catch_up_misses_nothing(cluster):
    one, two = cluster.start(2)
    tenant = one.create_app()
    one.set_app(tenant["appId"], **FAST)
    with rest(one, tenant) as api:
        for user in ("alice", "bob"):
            api.put(f"users/{user}", json={"name": user})
        api.put("conversations/room", json={"participants": ["alice", "bob"]})
        alice_one, alice_two = await _client(one, tenant, "alice"), await _client(two, tenant, "alice")
        bob_two = await _client(two, tenant, "bob")
        for client in (alice_one, alice_two, bob_two):
            await client.call("conversation:join", {"conversationId": "room"})

        def send(client, text, key=None):
            return client.call("message:send", {"conversationId": "room", "text": text, **({"idempotencyKey": key} if key else {})})

        sends = [send(alice_one, f"a{i}") for i in range(100)] + [send(bob_two, f"b{i}") for i in range(100)]
        # the same message sent twice at once, through both processes (a client retrying elsewhere)
        sends += [send(c, f"dup{i}", f"dup-key-{i}") for i in range(20) for c in (alice_one, alice_two)]
        acks = await asyncio.gather(*sends)
        assert not [a for a in acks if "error" in a]
        dup_ids = [a["message"]["id"] for a in acks[200:]]
        assert all(dup_ids[i] == dup_ids[i + 1] for i in range(0, 40, 2))  # each pair answered with one message

        stored = _all_messages(api)
        texts = [m["text"] for m in stored]
        assert len(stored) == 220 and len({m["id"] for m in stored}) == 220
        assert sorted(texts) == sorted([f"a{i}" for i in range(100)] + [f"b{i}" for i in range(100)] + [f"dup{i}" for i in range(20)])
        # catch-up after any message returns exactly what follows it in the one stored order
        for anchor in (0, 57, 143, 218):
            page = await bob_two.call("messages:list", {"conversationId": "room", "afterMessageId": stored[anchor]["id"], "limit": 100})
            assert [m["id"] for m in page["messages"]] == [m["id"] for m in stored[anchor + 1 : anchor + 101]], anchor
        for client in (alice_one, alice_two, bob_two):
            await client.close()


async def test_concurrent_connects_of_one_new_user_make_one_user(cluster):
    one, two = cluster.start(2)
    tenant = one.create_app()
    one.set_app(tenant["appId"], **FAST)
    me = {"id": "newcomer", "name": "Newcomer", "email": ["new@example.com"]}
    clients = await asyncio.gather(*(_client(one if i % 2 else two, tenant, me) for i in range(30)), return_exceptions=True)
    assert not [c for c in clients if isinstance(c, BaseException)], [repr(c) for c in clients if isinstance(c, BaseException)]
    with rest(two, tenant) as api:
        assert api.get("users/newcomer").json()["name"] == "Newcomer"
    for client in clients:
        await client.close()


async def test_the_participant_limit_holds_under_concurrent_adds(cluster):
    one, two = cluster.start(2)
    tenant = one.create_app()
    one.set_app(tenant["appId"], participantLimit="10", **FAST)
    with rest(one, tenant) as api_one, rest(two, tenant) as api_two:
        for i in range(20):
            api_one.put(f"users/u{i}", json={"name": f"U{i}"})
        api_one.put("conversations/room", json={"participants": []})
        async def add(i):
            api = api_one if i % 2 else api_two
            return await asyncio.to_thread(api.put, f"conversations/room/participants/u{i}", json={})
        answers = await asyncio.gather(*(add(i) for i in range(20)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] * 10 + [409] * 10, [a.text for a in answers]
        assert {a.json()["errorCode"] for a in answers if a.status_code == 409} == {"PARTICIPANT_LIMIT_REACHED"}
        assert len(api_two.get("conversations/room").json()["participants"]) == 10
