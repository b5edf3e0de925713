"""Two processes on one Redis and one PostgreSQL: what happens on one is heard on the other."""

from __future__ import annotations

import asyncio

from tests.cluster.conftest import live_figures, rest
from tests.realtime_client import Client

GROUP = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}


async def _client(process, tenant, me) -> Client:
    return await Client().connect(process.base_url, {"appId": tenant["appId"], "me": me})


async def test_messages_typing_reads_and_membership_cross_processes(cluster):
    one, two = cluster.start(2)
    tenant = one.create_app()
    with rest(one, tenant) as api_one, rest(two, tenant) as api_two:
        for user_id, name in GROUP.items():
            assert api_one.put(f"users/{user_id}", json={"name": name}).status_code == 200
        assert api_two.put("conversations/room", json={"participants": ["alice", "bob"]}).status_code == 200
        alice = await _client(one, tenant, "alice")
        bob = await _client(two, tenant, "bob")
        guest = await _client(two, tenant, {"id": "visitor", "name": "Visitor"})
        carol = await _client(two, tenant, "carol")
        for client in (alice, bob):
            await client.call("conversation:join", {"conversationId": "room"})
        await guest.call("conversation:join", {"conversationId": "room", "asGuest": True})

        # REST on one process -> participants and guests on the other
        api_one.post("conversations/room/messages", json=[{"text": "from REST", "sender": "alice", "type": "UserMessage"}])
        for client in (bob, guest):
            assert (await client.next("message:new"))["message"]["text"] == "from REST"

        # a socket on one -> sockets on the other, exactly once
        sent = (await alice.call("message:send", {"conversationId": "room", "text": "hello", "idempotencyKey": "k"}))["message"]
        again = (await alice.call("message:send", {"conversationId": "room", "text": "hello", "idempotencyKey": "k"}))["message"]
        assert again["id"] == sent["id"]
        await alice.call("message:send", {"conversationId": "room", "text": "marker"})
        for client in (bob, guest):
            before = await client.before_marker("message:new", lambda d: d["message"]["text"] == "marker")
            assert [d["message"]["text"] for name, d in before if name == "message:new"] == ["from REST", "hello"]

        # typing and read markers cross too
        await alice.call("typing", {"conversationId": "room", "isTyping": True})
        assert await bob.next("typing") == {"conversationId": "room", "userId": "alice", "isTyping": True}
        await bob.call("conversation:read", {"conversationId": "room", "messageId": sent["id"]})
        assert (await alice.next("conversation:read"))["userId"] == "bob"

        # a participant added over REST on one process: their connection on the other hears it in their feed,
        # and one removed stops hearing the conversation (the side effect runs where the connection is)
        api_one.put("conversations/room/participants/carol", json={})
        assert (await carol.next("participant:added"))["user"]["id"] == "carol"
        await carol.call("conversation:join", {"conversationId": "room"})
        api_one.delete("conversations/room/participants/bob")
        assert (await bob.next("participant:removed"))["userId"] == "bob"
        await alice.call("message:send", {"conversationId": "room", "text": "after bob left"})
        assert (await carol.next_where("message:new", lambda d: d["message"]["text"] == "after bob left"))
        await alice.call("message:send", {"conversationId": "room", "text": "second marker"})
        before = await guest.before_marker("message:new", lambda d: d["message"]["text"] == "second marker")
        assert "after bob left" in [d["message"]["text"] for name, d in before if name == "message:new"]
        bob_heard = [d["message"]["text"] for name, d in bob.log if name == "message:new"]
        assert "after bob left" not in bob_heard and "second marker" not in bob_heard
        for client in (alice, bob, guest, carol):
            await client.close()


async def test_the_dashboard_figures_sum_every_process(cluster):
    one, two = cluster.start(2)
    tenant = one.create_app()
    with rest(one, tenant) as api:
        api.put("conversations/lobby", json={"participants": []})
    clients = [await _client(process, tenant, {"id": f"g{i}", "name": "G"}) for i, process in enumerate([one, two, two])]
    for client in clients:
        await client.call("conversation:join", {"conversationId": "lobby", "asGuest": True})
    assert await _eventually_figures(one, tenant) == {"connections": 3, "guests": {"lobby": 3}}
    for client in clients:
        await client.close()


async def _eventually_figures(process, tenant):
    for _ in range(50):  # presence is written to Redis every half second
        figures = await asyncio.to_thread(live_figures, process, tenant["appId"])
        if figures["connections"] == 3:
            return figures
        await asyncio.sleep(0.2)
    return figures
