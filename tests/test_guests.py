"""Guests and participants: every rule of DESIGN.md's list, through the realtime protocol and REST.

Test names start with the rule's number, so the rule-to-test table is `pytest --collect-only -q -k rule`.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.waiting import equals, eventually, guest_count
from tests.realtime_client import Client, connect

ALICE, SEBASTIAN, STEVE, VISITOR = "123456", "654321", "456789", "guest-1"


@pytest.fixture
async def visitor(server, tenant, api, group):
    """A user who is not a participant of `group`, connected (not joined)."""
    client = await connect(server, tenant["appId"], {"id": VISITOR, "name": "Vera Visitor"})
    yield client
    await client.close()


@pytest.fixture
async def alice(server, tenant, group):
    client = await connect(server, tenant["appId"], ALICE)
    assert "error" not in await client.call("conversation:join", {"conversationId": group})
    yield client
    await client.close()


async def join_as_guest(client: Client, conversation: str = "group", **extra) -> dict:
    return await client.call("conversation:join", {"conversationId": conversation, "asGuest": True, **extra})


# --- rule 1: asGuest joins with history and live messages, sends, writes no membership --------


async def test_rule1_guest_gets_history_live_messages_and_can_send(api, alice, visitor, group):
    api.post(f"conversations/{group}/messages", json=[{"text": "before", "sender": ALICE, "type": "UserMessage"}])
    joined = await join_as_guest(visitor)
    assert joined["me"] == {"access": "ReadWrite", "notify": False, "role": "guest"}
    assert [m["text"] for m in joined["messages"]] == ["before"]
    await alice.call("message:send", {"conversationId": group, "text": "live"})
    assert (await visitor.next("message:new"))["message"]["text"] == "live"
    sent = await visitor.call("message:send", {"conversationId": group, "text": "hello from a guest"})
    assert sent["message"]["senderId"] == VISITOR
    received = await alice.next_where("message:new", lambda d: d["message"]["senderId"] == VISITOR)
    assert received["message"]["text"] == "hello from a guest" and received["sender"]["name"] == "Vera Visitor"
    assert VISITOR not in api.get(f"conversations/{group}").json()["participants"]


async def test_rule1_without_as_guest_a_non_participant_is_refused(visitor, group):
    assert (await visitor.call("conversation:join", {"conversationId": group}))["error"]["code"] == "NOT_A_PARTICIPANT"


async def test_rule1_guest_reads_older_messages_and_sees_guest_names(server, tenant, api, visitor, group):
    first = await connect(server, tenant["appId"], {"id": "guest-0", "name": "Gus Guest"})
    await join_as_guest(first)
    await first.call("message:send", {"conversationId": group, "text": "guest message"})
    await first.close()
    api.post(f"conversations/{group}/messages", json=[{"text": f"m{i}", "sender": ALICE, "type": "UserMessage"} for i in range(5)])
    joined = await join_as_guest(visitor, limit=2)
    older = await visitor.call("messages:list", {"conversationId": group, "beforeMessageId": joined["messages"][0]["id"]})
    assert [m["text"] for m in older["messages"]] == ["guest message", "m0", "m1", "m2"]
    assert older["users"]["guest-0"]["name"] == "Gus Guest" and "email" not in older["users"]["guest-0"]


async def test_rule1_a_guest_cannot_send_before_joining(visitor, group):
    sent = await visitor.call("message:send", {"conversationId": group, "text": "sneaky"})
    assert sent["error"]["code"] == "SENDER_NOT_PARTICIPANT"


# --- rule 2 and 11: limits -----------------------------------------------------------------


async def test_rule2_guests_do_not_count_toward_the_participant_limit(server, tenant, visitor, group):
    server.update_app(tenant["appId"], participantLimit=3)  # group already has 3 participants
    assert (await join_as_guest(visitor))["me"]["role"] == "guest"


async def test_rule11_guest_limit_is_refused_and_slots_free_on_leave(server, tenant, api, group):
    server.update_app(tenant["appId"], guestLimit=2)
    guests = [await connect(server, tenant["appId"], {"id": f"g{i}", "name": f"G{i}"}) for i in range(3)]
    assert "error" not in await join_as_guest(guests[0])
    assert "error" not in await join_as_guest(guests[1])
    refused = await join_as_guest(guests[2])
    assert refused["error"]["code"] == "GUEST_LIMIT_REACHED" and "2 guests" in refused["error"]["message"]
    assert "error" not in await join_as_guest(guests[1])  # joining again takes no second slot
    await guests[0].call("conversation:leave", {"conversationId": group})
    assert "error" not in await join_as_guest(guests[2])
    assert await guest_count(server, tenant) == 2
    for guest in guests:
        await guest.close()
    await eventually(lambda: equals(guest_count(server, tenant), 0))


async def raw_guest_then_abort(server, app_id: str, user_id: str) -> None:
    """Join as a guest over a bare websocket, then drop the TCP connection without any goodbye."""
    url = server.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    ws = await ws_connect(url)
    assert (await ws.recv()).startswith("0")
    await ws.send("40" + orjson.dumps({"appId": app_id, "me": {"id": user_id, "name": user_id}}).decode())
    assert (await ws.recv()).startswith("40")
    await ws.send('421["conversation:join",{"conversationId":"group","asGuest":true}]')
    reply = await ws.recv()
    assert reply.startswith("431") and "error" not in reply, reply
    ws.transport.abort()


async def test_rule11_abrupt_disconnects_never_leak_guest_slots(server, tenant, group):
    server.update_app(tenant["appId"], guestLimit=3)
    for round_ in range(4):
        await asyncio.gather(*(raw_guest_then_abort(server, tenant["appId"], f"r{round_}-{i}") for i in range(3)))
        await eventually(lambda: equals(guest_count(server, tenant), 0))
    assert len(server.app.chat.live) == 0  # no connection left behind, joined or not


async def test_rule11_a_deleted_conversation_frees_its_guest_slots(server, tenant, api, visitor, group):
    await join_as_guest(visitor)
    api.delete(f"conversations/{group}")
    await visitor.next("conversation:deleted")
    assert await guest_count(server, tenant) == 0


# --- rule 3: typing --------------------------------------------------------------------------


async def test_rule3_a_guests_typing_is_never_sent_but_guests_see_others_typing(alice, visitor, group):
    await join_as_guest(visitor)
    assert await visitor.call("typing", {"conversationId": group, "isTyping": True}) == {}
    await visitor.call("message:send", {"conversationId": group, "text": "marker"})
    before = await alice.before_marker("message:new", lambda d: d["message"]["text"] == "marker")
    assert not [d for name, d in before if name == "typing"]
    await alice.call("typing", {"conversationId": group, "isTyping": True})
    assert (await visitor.next("typing"))["userId"] == ALICE


# --- rules 4 and 5: no unread tracking, no inbox, no REST listing -----------------------------


async def test_rule4_guests_have_no_unread_tracking(api, alice, visitor, group):
    await join_as_guest(visitor)
    message = (await alice.call("message:send", {"conversationId": group, "text": "read me"}))["message"]
    marker = await visitor.call("conversation:read", {"conversationId": group, "messageId": message["id"]})
    assert marker == {"messageId": message["id"], "tracked": False}
    await visitor.call("message:send", {"conversationId": group, "text": "marker"})
    before = await alice.before_marker("message:new", lambda d: d["message"]["text"] == "marker")
    assert not [d for name, d in before if name == "conversation:read"]
    assert api.get(f"conversations/{group}/messages/{message['id']}").json()["readBy"] == []


async def test_rule5_guest_conversation_is_not_in_the_users_conversations(api, visitor, group):
    await join_as_guest(visitor)
    await visitor.call("message:send", {"conversationId": group, "text": "I was here"})
    assert api.get(f"users/{VISITOR}/conversations").json()["data"] == []


# --- rule 6: the Inbox takes no guests -------------------------------------------------------


async def test_rule6_inbox_view_cannot_join_as_guest(server, tenant, visitor, group):
    refused = await join_as_guest(visitor, view="inbox")
    assert refused["error"]["code"] == "GUEST_NOT_ALLOWED_IN_INBOX" and "Chatbox" in refused["error"]["message"]
    assert await guest_count(server, tenant) == 0
    assert "error" not in await join_as_guest(visitor, view="popup")


# --- rule 7: not in the member list; only messages remain ------------------------------------


async def test_rule7_guests_are_not_members_and_leave_only_their_messages(server, tenant, api, alice, visitor, group):
    joined = await join_as_guest(visitor)
    assert VISITOR not in {p["id"] for p in joined["participants"]}
    await visitor.call("message:send", {"conversationId": group, "text": "bye"})
    await visitor.close()
    await eventually(lambda: equals(guest_count(server, tenant), 0))
    rejoined = await alice.call("conversation:join", {"conversationId": group})
    assert VISITOR not in {p["id"] for p in rejoined["participants"]}
    assert rejoined["users"][VISITOR]["name"] == "Vera Visitor"
    assert [m["senderId"] for m in api.get(f"conversations/{group}/messages").json()["data"]] == [VISITOR]
    assert set(api.get(f"conversations/{group}").json()["participants"]) == {ALICE, SEBASTIAN, STEVE}


# --- rule 8: asGuest has no effect for participants ------------------------------------------


async def test_rule8_participant_asking_as_guest_joins_as_participant_until_removed(server, tenant, api, group):
    steve = await connect(server, tenant["appId"], STEVE)
    assert (await join_as_guest(steve))["me"]["role"] == "participant"
    assert await guest_count(server, tenant) == 0
    api.delete(f"conversations/{group}/participants/{STEVE}")
    await steve.next("participant:removed")
    assert (await join_as_guest(steve))["me"]["role"] == "guest"
    await steve.close()


# --- rule 9: setParticipant from the browser makes a participant ------------------------------


async def test_rule9_set_participant_from_the_browser_makes_a_participant(api, visitor, group):
    await join_as_guest(visitor)
    synced = await visitor.call("conversation:sync", {"conversationId": group, "participants": [{"user": VISITOR}]})
    assert "error" not in synced
    assert api.get(f"conversations/{group}").json()["participants"][VISITOR] == {"access": "ReadWrite", "notify": True}
    assert (await join_as_guest(visitor))["me"]["role"] == "participant"


# --- rule 10: browser synchronization settings -----------------------------------------------


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("disallowUserSync", "Disallow user synchronization via the browser"),
        ("disallowConversationSync", "Disallow conversation synchronization via the browser"),
    ],
)
async def test_rule10_guest_access_needs_both_sync_settings(server, tenant, visitor, group, setting, named):
    server.update_app(tenant["appId"], **{setting: True})
    refused = await join_as_guest(visitor)
    assert refused["error"]["code"] == "GUEST_ACCESS_DISALLOWED" and named in refused["error"]["message"]
    server.update_app(tenant["appId"], **{setting: False})
    assert "error" not in await join_as_guest(visitor)


async def test_rule10_conversation_sync_disallowed_blocks_changes_not_messages(server, tenant, api, alice, group):
    server.update_app(tenant["appId"], disallowConversationSync=True)
    attrs = await alice.call("conversation:sync", {"conversationId": group, "attributes": {"subject": "Hacked"}})
    assert attrs["error"]["code"] == "CONVERSATION_SYNC_DISALLOWED"
    people = await alice.call("conversation:sync", {"conversationId": group, "participants": [{"user": ALICE}]})
    assert people["error"]["code"] == "CONVERSATION_SYNC_DISALLOWED"
    new = await alice.call("conversation:sync", {"conversationId": "brand-new"})
    assert new["error"]["code"] == "CONVERSATION_SYNC_DISALLOWED"
    assert "error" not in await alice.call("conversation:sync", {"conversationId": group})  # opening is fine
    assert "error" not in await alice.call("message:send", {"conversationId": group, "text": "still works"})
    assert api.get(f"conversations/{group}").json()["subject"] == "Hello"
    assert api.get("conversations/brand-new").status_code == 404


async def test_rule10_user_sync_disallowed_ignores_browser_user_data(server, tenant, api, alice, group):
    server.update_app(tenant["appId"], disallowUserSync=True)
    entry = {"user": {"id": STEVE, "name": "Renamed by a browser"}}
    assert "error" not in await alice.call("conversation:sync", {"conversationId": group, "participants": [entry]})
    assert api.get(f"users/{STEVE}").json()["name"] == "Steve"
    unknown = {"user": {"id": "nobody", "name": "New"}}
    refused = await alice.call("conversation:sync", {"conversationId": group, "participants": [unknown]})
    assert refused["error"]["code"] == "USER_SYNC_DISALLOWED"


# --- rule 12: participant here, guest there, at once -----------------------------------------


async def test_rule12_participant_in_one_conversation_and_guest_in_another(server, tenant, api, group):
    api.put("conversations/lobby", json={"subject": "Lobby"})
    steve = await connect(server, tenant["appId"], STEVE)
    assert (await steve.call("conversation:join", {"conversationId": group}))["me"]["role"] == "participant"
    assert (await join_as_guest(steve, "lobby"))["me"]["role"] == "guest"
    await steve.call("typing", {"conversationId": group, "isTyping": True})
    assert [c["id"] for c in api.get(f"users/{STEVE}/conversations").json()["data"]] == [group]
    assert await guest_count(server, tenant, "lobby") == 1 and await guest_count(server, tenant) == 0
    await steve.close()


# --- a super group -----------------------------------------------------------------------------


async def test_500_concurrent_guests_all_receive_one_message(server, tenant, api, group):
    # every guest of this test comes from 127.0.0.1: the per-address limits are raised, as a lobby behind one NAT would
    server.update_app(tenant["appId"], connectionsPerAddress="1000/minute", usersCreatedPerAddress="1000/minute")
    guests: list[Client] = []
    for start in range(0, 500, 50):
        batch = await asyncio.gather(
            *(connect(server, tenant["appId"], {"id": f"crowd-{i}", "name": f"Crowd {i}"}) for i in range(start, start + 50))
        )
        joins = await asyncio.gather(*(join_as_guest(g) for g in batch))
        assert all("error" not in j for j in joins)
        guests.extend(batch)
    assert await guest_count(server, tenant) == 500
    api.post(f"conversations/{group}/messages", json=[{"text": "to the crowd", "sender": ALICE, "type": "UserMessage"}])
    received = await asyncio.gather(*(g.next("message:new", timeout=30) for g in guests))
    assert {r["message"]["text"] for r in received} == {"to the crowd"}
    await asyncio.gather(*(g.close() for g in guests))
    await eventually(lambda: equals(guest_count(server, tenant), 0), timeout=15)


async def test_rule8_a_guest_made_participant_is_one_at_once(server, tenant, api, alice, visitor, group):
    await join_as_guest(visitor)
    assert await guest_count(server, tenant) == 1
    api.put(f"conversations/{group}/participants/{VISITOR}")
    await visitor.next_where("participant:added", lambda d: d["user"]["id"] == VISITOR)
    await eventually(lambda: equals(guest_count(server, tenant), 0))  # the slot is free
    await visitor.call("typing", {"conversationId": group, "isTyping": True})
    assert (await alice.next("typing"))["userId"] == VISITOR  # no longer a guest's hidden typing
