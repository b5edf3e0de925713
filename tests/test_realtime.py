"""The Socket.IO protocol against a live server, with python-socketio clients over a real socket."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import pytest
import socketio

from tests.realtime_client import Client, connect

ALICE, SEBASTIAN, STEVE = "123456", "654321", "456789"


@pytest.fixture
async def trio(server, tenant, group):
    clients = [await connect(server, tenant["appId"], uid) for uid in (ALICE, SEBASTIAN, STEVE)]
    for client in clients:
        joined = await client.call("conversation:join", {"conversationId": group})
        assert "error" not in joined, joined
    yield clients
    for client in clients:
        await client.close()


async def refused(server, auth) -> str:
    """The reason a refused connection was given: `connect_error` data as "CODE: message"."""
    client = Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.base_url, auth)
    reason = await client.next("connect_error")
    await client.close()
    assert reason["data"]["code"], reason
    return f"{reason['data']['code']}: {reason['message']}"


# --- connecting -----------------------------------------------------------------------------


async def test_unknown_app_is_refused_with_a_reason(server):
    error = await refused(server, {"appId": "nope", "me": "1"})
    assert "no app with id 'nope'" in str(error)


async def test_unknown_user_by_id_is_refused(server, tenant):
    error = await refused(server, {"appId": tenant["appId"], "me": "ghost"})
    assert "does not exist" in str(error)


async def test_bad_auth_shape_is_refused(server, tenant):
    error = await refused(server, {"appId": tenant["appId"], "me": {"id": "1", "name": 7}})
    assert "name" in str(error)


async def test_connecting_with_user_data_syncs_the_user(server, tenant, api):
    client = await connect(server, tenant["appId"], {"id": "42", "name": "Browser Bob", "role": "default"})
    await client.close()
    assert api.get("users/42").json()["name"] == "Browser Bob"


async def test_user_sync_disallowed_applies_no_browser_data(server, tenant, api):
    api.put("users/42", json={"name": "Server Bob"})
    server.update_app(tenant["appId"], disallowUserSync=True)
    client = await connect(server, tenant["appId"], {"id": "42", "name": "Browser Bob"})
    await client.close()
    assert api.get("users/42").json()["name"] == "Server Bob"
    error = await refused(server, {"appId": tenant["appId"], "me": {"id": "43", "name": "New"}})
    assert "disallows user synchronization" in str(error)


async def test_identity_verification_needs_a_valid_signature(server, tenant, api):
    api.put("users/42", json={"name": "Bob"})
    server.update_app(tenant["appId"], identityVerification=True)
    assert "signature" in str(await refused(server, {"appId": tenant["appId"], "me": "42"}))
    wrong = {"appId": tenant["appId"], "me": "42", "signature": "00" * 32}
    assert "does not match" in str(await refused(server, wrong))
    signature = hmac.new(tenant["secretKey"].encode(), b"42", hashlib.sha256).hexdigest().upper()
    client = await connect(server, tenant["appId"], "42", signature=signature)
    await client.close()


# --- joining and messages -------------------------------------------------------------------


async def test_join_returns_conversation_members_and_latest_messages(server, tenant, api, group):
    api.post(f"conversations/{group}/messages", json=[{"text": t, "sender": ALICE, "type": "UserMessage"} for t in "abc"])
    client = await connect(server, tenant["appId"], STEVE)
    joined = await client.call("conversation:join", {"conversationId": group, "limit": 2})
    await client.close()
    assert joined["conversation"]["subject"] == "Hello"
    assert {p["id"] for p in joined["participants"]} == {ALICE, SEBASTIAN, STEVE}
    assert [m["text"] for m in joined["messages"]] == ["b", "c"] and joined["hasOlder"]
    assert joined["me"] == {"access": "ReadWrite", "notify": True, "role": "participant", "unreadMessageCount": 3}


async def test_one_sends_two_receive(trio, api, group):
    alice, sebastian, steve = trio
    ack = await alice.call("message:send", {"conversationId": group, "text": "Hi both!"})
    message = ack["message"]
    assert message["senderId"] == ALICE and message["origin"] == "web"
    # acknowledged after commit: the stored message is already readable over REST
    assert api.get(f"conversations/{group}/messages/{message['id']}").json()["text"] == "Hi both!"
    for client in (sebastian, steve):
        assert (await client.next("message:new"))["message"]["id"] == message["id"]


async def test_rest_message_reaches_sockets_live(trio, api, group):
    _, sebastian, steve = trio
    api.post(f"conversations/{group}/messages", json=[{"text": "from REST", "sender": ALICE, "type": "UserMessage"}])
    for client in (sebastian, steve):
        assert (await client.next("message:new"))["message"]["text"] == "from REST"


async def test_resend_with_same_idempotency_key_stores_one(trio, api, group):
    alice, sebastian, _ = trio
    payload = {"conversationId": group, "text": "exactly once", "idempotencyKey": "key-1"}
    first = await alice.call("message:send", payload)
    again = await alice.call("message:send", payload)
    assert first["message"]["id"] == again["message"]["id"]
    assert len(api.get(f"conversations/{group}/messages").json()["data"]) == 1
    await alice.call("message:send", {"conversationId": group, "text": "marker"})
    before = await sebastian.before_marker("message:new", lambda d: d["message"]["text"] == "marker")
    assert [d["message"]["text"] for name, d in before if name == "message:new"] == ["exactly once"]


async def test_late_joiner_catches_up_from_last_id(server, tenant, api, trio, group):
    alice, _, steve = trio
    last = (await alice.call("message:send", {"conversationId": group, "text": "seen"}))["message"]
    await steve.next("message:new")
    await steve.close()
    for text in ("missed 1", "missed 2"):
        await alice.call("message:send", {"conversationId": group, "text": text})
    steve = await connect(server, tenant["appId"], STEVE)
    joined = await steve.call("conversation:join", {"conversationId": group, "afterMessageId": last["id"]})
    await steve.close()
    assert [m["text"] for m in joined["missed"]] == ["missed 1", "missed 2"] and joined["missedComplete"]


async def test_catch_up_repeats_the_last_two_seconds_before_the_anchor(server, tenant, trio, group):
    """With several processes a client may hold a message committed after one it never received (their
    events took different paths); catching up from a little before its newest message closes that gap."""
    alice, _, steve = trio
    earlier = (await alice.call("message:send", {"conversationId": group, "text": "committed first"}))["message"]
    newest = (await alice.call("message:send", {"conversationId": group, "text": "received"}))["message"]
    after = (await alice.call("message:send", {"conversationId": group, "text": "after"}))["message"]
    joined = await steve.call("conversation:join", {"conversationId": group, "afterMessageId": newest["id"]})
    assert [m["id"] for m in joined["missed"]] == [earlier["id"], after["id"]]  # not the anchor itself


async def test_older_messages_page(server, tenant, api, group):
    api.post(f"conversations/{group}/messages", json=[{"text": t, "sender": ALICE, "type": "UserMessage"} for t in "abcde"])
    client = await connect(server, tenant["appId"], STEVE)
    joined = await client.call("conversation:join", {"conversationId": group, "limit": 2})
    older = await client.call("messages:list", {"conversationId": group, "beforeMessageId": joined["messages"][0]["id"]})
    await client.close()
    assert [m["text"] for m in older["messages"]] == ["a", "b", "c"] and not older["hasOlder"]


async def test_non_participant_cannot_join_read_or_send(server, tenant, api, group):
    api.put("users/9", json={"name": "Outsider"})
    client = await connect(server, tenant["appId"], "9")
    joined = await client.call("conversation:join", {"conversationId": group})
    sent = await client.call("message:send", {"conversationId": group, "text": "let me in"})
    listed = await client.call("messages:list", {"conversationId": group, "beforeMessageId": "msg_x"})
    await client.close()
    assert joined["error"]["code"] == "NOT_A_PARTICIPANT"
    assert sent["error"]["code"] == "SENDER_NOT_PARTICIPANT"
    assert listed["error"]["code"] == "NOT_A_PARTICIPANT"
    assert api.get(f"conversations/{group}/messages").json()["data"] == []


async def test_outsider_in_no_room_receives_nothing(server, tenant, api, trio, group):
    api.put("users/9", json={"name": "Outsider"})
    api.put("conversations/outsiders", json={"participants": ["9"]})
    outsider = await connect(server, tenant["appId"], "9")
    await outsider.call("conversation:join", {"conversationId": group})  # refused
    await trio[0].call("message:send", {"conversationId": group, "text": "private"})
    api.post("conversations/outsiders/messages", json=[{"text": "marker", "type": "SystemMessage"}])
    before = await outsider.before_marker("message:new", lambda d: d["message"]["text"] == "marker")
    assert not [d for name, d in before if name == "message:new"]
    await outsider.close()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"conversationId": "group", "text": ""}, "INVALID_INPUT"),
        ({"conversationId": "group", "text": "x" * 10_001}, "MESSAGE_TOO_LONG"),
        ({"conversationId": "group", "text": "a", "sender": "654321"}, "INVALID_INPUT"),
        ({"conversationId": "nope", "text": "a"}, "CONVERSATION_NOT_FOUND"),
        ("not an object", "INVALID_INPUT"),
    ],
)
async def test_bad_sends_get_error_acks(trio, api, payload, code):
    ack = await trio[0].call("message:send", payload)
    assert ack["error"]["code"] == code and ack["error"]["message"]


# --- live events ----------------------------------------------------------------------------


async def test_typing_reaches_others_not_self(trio, group):
    alice, sebastian, steve = trio
    assert await alice.call("typing", {"conversationId": group, "isTyping": True}) == {}
    for client in (sebastian, steve):
        assert await client.next("typing") == {"conversationId": group, "userId": ALICE, "isTyping": True}
    await sebastian.call("typing", {"conversationId": group, "isTyping": True})  # the marker
    before = await alice.before_marker("typing", lambda d: d["userId"] == SEBASTIAN)
    assert not [d for name, d in before if name == "typing"]


async def test_typing_needs_a_joined_conversation(server, tenant, group):
    client = await connect(server, tenant["appId"], ALICE)
    ack = await client.call("typing", {"conversationId": group, "isTyping": True})
    await client.close()
    assert ack["error"]["code"] == "NOT_JOINED"


async def test_read_marker_is_broadcast_and_shows_in_read_by(trio, api, group):
    alice, sebastian, _ = trio
    message = (await alice.call("message:send", {"conversationId": group, "text": "read me"}))["message"]
    assert await sebastian.call("conversation:read", {"conversationId": group, "messageId": message["id"]}) == {
        "messageId": message["id"],
        "tracked": True,
    }
    marker = await alice.next("conversation:read")
    assert marker == {"conversationId": group, "userId": SEBASTIAN, "messageId": message["id"]}
    stored = api.get(f"conversations/{group}/messages/{message['id']}").json()
    assert stored["readBy"] == [SEBASTIAN]
    assert api.get(f"users/{SEBASTIAN}/conversations").json()["data"][0]["unreadMessageCount"] == 0


async def test_edits_deletes_and_conversation_updates_are_live(trio, api, group):
    _, sebastian, _ = trio
    stored = api.post(f"conversations/{group}/messages", json=[{"text": "v1", "sender": ALICE, "type": "UserMessage"}])
    message_id = stored.json()["data"][0]["id"]
    await sebastian.next("message:new")
    api.put(f"conversations/{group}/messages/{message_id}", json={"text": "v2"})
    assert (await sebastian.next("message:updated"))["message"]["text"] == "v2"
    api.delete(f"conversations/{group}/messages/{message_id}")
    assert await sebastian.next("message:deleted") == {"conversationId": group, "messageId": message_id}
    api.put(f"conversations/{group}", json={"subject": "New subject"})
    assert (await sebastian.next("conversation:updated"))["conversation"]["subject"] == "New subject"


async def test_participant_changes_are_live_and_removal_stops_delivery(trio, api, group):
    alice, sebastian, steve = trio
    api.put("users/9", json={"name": "Nine"})
    api.put(f"conversations/{group}/participants/9", json={"access": "Read"})
    added = await sebastian.next("participant:added")
    assert added["user"]["name"] == "Nine" and added["access"] == "Read"
    api.patch(f"conversations/{group}/participants/9", json={"access": "ReadWrite"})
    assert (await sebastian.next("participant:updated"))["access"] == "ReadWrite"
    api.delete(f"conversations/{group}/participants/{STEVE}")
    assert await steve.next("participant:removed") == {"conversationId": group, "userId": STEVE}
    await alice.call("message:send", {"conversationId": group, "text": "after removal"})
    await sebastian.next("message:new")
    api.put("conversations/steves", json={"participants": [STEVE]})
    api.post("conversations/steves/messages", json=[{"text": "marker", "type": "SystemMessage"}])
    before = await steve.before_marker("message:new", lambda d: d["message"]["text"] == "marker")
    assert "after removal" not in [d["message"]["text"] for name, d in before if name == "message:new"]


async def test_conversation_deleted_is_live(trio, api, group):
    api.delete(f"conversations/{group}")
    assert await trio[1].next("conversation:deleted") == {"conversationId": group}


async def test_events_stay_within_their_app(server, trio, group):
    other = server.create_app("Other")
    import httpx

    headers = {"Authorization": f"Bearer {other['secretKey']}"}
    with httpx.Client(base_url=f"{server.base_url}/v1/{other['appId']}/", headers=headers) as other_api:
        for uid in (ALICE, SEBASTIAN):
            other_api.put(f"users/{uid}", json={"name": uid})
        other_api.put(f"conversations/{group}", json={"participants": [ALICE, SEBASTIAN]})
        other_api.post(f"conversations/{group}/messages", json=[{"text": "other app", "sender": ALICE, "type": "UserMessage"}])
    await trio[0].call("message:send", {"conversationId": group, "text": "marker"})
    before = await trio[1].before_marker("message:new", lambda d: d["message"]["text"] == "marker")
    assert not [d for name, d in before if name == "message:new"]


async def test_many_clients_receive_one_message(server, tenant, api, group):
    clients = await asyncio.gather(*(connect(server, tenant["appId"], SEBASTIAN) for _ in range(20)))
    for client in clients:
        await client.call("conversation:join", {"conversationId": group})
    api.post(f"conversations/{group}/messages", json=[{"text": "all", "sender": ALICE, "type": "UserMessage"}])
    received = await asyncio.gather(*(c.next("message:new") for c in clients))
    assert {r["message"]["text"] for r in received} == {"all"}
    await asyncio.gather(*(c.close() for c in clients))


async def test_catch_up_from_a_deleted_message_asks_for_a_reload(server, tenant, api, trio, group):
    alice, _, steve = trio
    last = (await alice.call("message:send", {"conversationId": group, "text": "soon gone"}))["message"]
    await alice.call("message:send", {"conversationId": group, "text": "stays"})
    api.delete(f"conversations/{group}/messages/{last['id']}")
    joined = await steve.call("conversation:join", {"conversationId": group, "afterMessageId": last["id"]})
    assert joined["missed"] == [] and joined["missedComplete"] is False
    assert [m["text"] for m in joined["messages"]] == ["stays"]


async def test_a_deleted_messages_place_is_never_reused(trio, api, group):
    alice, sebastian, _ = trio
    first = (await alice.call("message:send", {"conversationId": group, "text": "one"}))["message"]
    await sebastian.call("conversation:read", {"conversationId": group, "messageId": first["id"]})
    api.delete(f"conversations/{group}/messages/{first['id']}")
    later = (await alice.call("message:send", {"conversationId": group, "text": "two"}))["message"]
    stored = api.get(f"conversations/{group}/messages/{later['id']}").json()
    assert stored["readBy"] == []
    assert api.get(f"users/{SEBASTIAN}/conversations").json()["data"][0]["unreadMessageCount"] == 1


async def test_members_do_not_see_each_others_email(trio, group):
    joined = await trio[1].call("conversation:join", {"conversationId": group})
    alice = next(p for p in joined["participants"] if p["id"] == ALICE)
    assert alice["name"] == "Alice" and "email" not in alice and "phone" not in alice
