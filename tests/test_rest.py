"""REST API v1 over HTTP against a live server: TalkJS paths and shapes, and bad input refused."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import GROUP


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"errorCode", "message"} and body["message"]
    return body["errorCode"]


def message_texts(api: httpx.Client, conversation: str = "group") -> list[str]:
    return [m["text"] for m in api.get(f"conversations/{conversation}/messages").json()["data"]]


# --- authentication -------------------------------------------------------------------------


def test_missing_secret_is_401(server, tenant):
    response = httpx.get(f"{server.base_url}/v1/{tenant['appId']}/conversations")
    assert response.status_code == 401 and error_of(response) == "UNAUTHORIZED"


def test_wrong_secret_is_401(server, tenant):
    headers = {"Authorization": "Bearer sk_wrong"}
    response = httpx.get(f"{server.base_url}/v1/{tenant['appId']}/conversations", headers=headers)
    assert response.status_code == 401 and error_of(response) == "INVALID_SECRET_KEY"


def test_another_apps_secret_is_401(server, tenant):
    other = server.create_app("Other")
    headers = {"Authorization": f"Bearer {other['secretKey']}"}
    response = httpx.get(f"{server.base_url}/v1/{tenant['appId']}/conversations", headers=headers)
    assert response.status_code == 401


def test_unknown_app_is_404(server, tenant):
    headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
    response = httpx.get(f"{server.base_url}/v1/nope/users/1", headers=headers)
    assert response.status_code == 404 and error_of(response) == "APP_NOT_FOUND"


def test_unknown_route_is_json_404(server):
    response = httpx.get(f"{server.base_url}/v2/whatever")
    assert response.status_code == 404 and error_of(response) == "NOT_FOUND"


# --- users ----------------------------------------------------------------------------------


def test_put_then_get_user(api):
    body = {"name": "Alice", "email": "alice@example.com", "custom": {"team": "a"}, "role": "default"}
    assert api.put("users/123456", json=body).json() == {}
    user = api.get("users/123456").json()
    assert user["id"] == "123456" and user["name"] == "Alice"
    assert user["email"] == ["alice@example.com"] and user["custom"] == {"team": "a"}
    assert user["phone"] is None and isinstance(user["createdAt"], int)


def test_put_user_changes_only_sent_fields_and_null_clears(api):
    api.put("users/1", json={"name": "Alice", "role": "admin", "photoUrl": "https://x/a.png", "custom": {"a": "1"}})
    api.put("users/1", json={"photoUrl": None, "custom": {"b": "2"}})
    user = api.get("users/1").json()
    assert user["name"] == "Alice" and user["role"] == "admin" and user["photoUrl"] is None
    assert user["custom"] == {"a": "1", "b": "2"}
    api.put("users/1", json={"custom": {"a": None}})
    assert api.get("users/1").json()["custom"] == {"b": "2"}


def test_creating_a_user_needs_a_name(api):
    response = api.put("users/1", json={"email": "a@example.com"})
    assert response.status_code == 400 and "name" in response.json()["message"]
    assert api.get("users/1").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": "A", "email": [1]}, "email"),
        ({"name": "A", "custom": {"k": 1}}, "custom.k"),
        ({"name": "A", "custom": "x"}, "custom"),
        ({"name": "A", "photoUrl": ["x"]}, "photoUrl"),
        ({"name": "A", "color": "red"}, "color"),
    ],
)
def test_wrong_types_name_the_field(api, body, field):
    api.put("users/1", json={"name": "Before"})
    response = api.put("users/1", json=body)
    assert response.status_code == 400 and field in response.json()["message"]
    assert api.get("users/1").json()["name"] == "Before"


def test_malformed_json_is_400(api):
    response = api.put("users/1", content=b"{name:")
    assert response.status_code == 400 and error_of(response) == "INVALID_JSON"


def test_oversized_body_is_413(api):
    response = api.put("users/1", content=b'{"name": "' + b"x" * 1_100_000 + b'"}')
    assert response.status_code == 413


def test_unknown_user_is_404(api):
    response = api.get("users/nobody")
    assert response.status_code == 404 and error_of(response) == "USER_NOT_FOUND"


# --- conversations --------------------------------------------------------------------------


def test_get_conversation_shape(api, group):
    conversation = api.get("conversations/group").json()
    assert conversation["id"] == "group" and conversation["subject"] == "Hello"
    assert conversation["photoUrl"] == "https://example.com/group.png"
    assert conversation["participants"] == {uid: {"access": "ReadWrite", "notify": True} for uid in GROUP}
    assert conversation["lastMessage"] is None and conversation["custom"] == {}


def test_put_conversation_merges_and_participants_only_add(api, group):
    api.put("users/777", json={"name": "Zed"})
    api.put("conversations/group", json={"participants": ["777"], "custom": {"topic": "x"}})
    conversation = api.get("conversations/group").json()
    assert conversation["subject"] == "Hello" and conversation["custom"] == {"topic": "x"}
    assert set(conversation["participants"]) == {*GROUP, "777"}


def test_put_conversation_with_unknown_participant_changes_nothing(api, group):
    response = api.put("conversations/group", json={"subject": "Changed", "participants": ["ghost"]})
    assert response.status_code == 404 and error_of(response) == "USER_NOT_FOUND"
    assert api.get("conversations/group").json()["subject"] == "Hello"


def test_participant_limit_is_refused_whole(server, tenant, api, group):
    server.update_app(tenant["appId"], participantLimit=4)
    for uid in ("a", "b"):
        api.put(f"users/{uid}", json={"name": uid})
    response = api.put("conversations/group", json={"participants": ["a", "b"]})
    assert response.status_code == 409 and error_of(response) == "PARTICIPANT_LIMIT_REACHED"
    assert set(api.get("conversations/group").json()["participants"]) == set(GROUP)


def test_delete_conversation_removes_its_messages(api, group):
    api.post("conversations/group/messages", json=[{"text": "hi", "sender": "123456", "type": "UserMessage"}])
    assert api.delete("conversations/group").json() == {}
    assert api.get("conversations/group").status_code == 404
    assert api.get("conversations/group/messages").status_code == 404
    assert api.get("users/123456/conversations").json()["data"] == []


def test_list_conversations_pages(api):
    for i in range(5):
        api.put(f"conversations/c{i}", json={"subject": str(i)})
    first = api.get("conversations", params={"limit": 2}).json()["data"]
    assert [c["id"] for c in first] == ["c4", "c3"]
    rest = api.get("conversations", params={"limit": 10, "startingAfter": "c3"}).json()["data"]
    assert [c["id"] for c in rest] == ["c2", "c1", "c0"]


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_bad_limit_is_400(api, limit):
    assert api.get("conversations", params={"limit": limit}).status_code == 400


# --- participants ---------------------------------------------------------------------------


def test_participant_put_patch_delete(api, group):
    api.put("users/9", json={"name": "Nine"})
    assert api.put("conversations/group/participants/9", json={"access": "Read", "notify": False}).json() == {}
    assert api.get("conversations/group").json()["participants"]["9"] == {"access": "Read", "notify": False}
    api.patch("conversations/group/participants/9", json={"notify": "MentionsOnly"})
    assert api.get("conversations/group").json()["participants"]["9"] == {"access": "Read", "notify": "MentionsOnly"}
    assert api.delete("conversations/group/participants/9").json() == {}
    assert "9" not in api.get("conversations/group").json()["participants"]


def test_participant_put_without_body_uses_defaults(api, group):
    api.put("users/9", json={"name": "Nine"})
    assert api.put("conversations/group/participants/9").status_code == 200
    assert api.get("conversations/group").json()["participants"]["9"] == {"access": "ReadWrite", "notify": True}


def test_patch_or_delete_of_non_participant_is_404(api, group):
    api.put("users/9", json={"name": "Nine"})
    assert error_of(api.patch("conversations/group/participants/9", json={"access": "Read"})) == "PARTICIPANT_NOT_FOUND"
    assert api.delete("conversations/group/participants/9").status_code == 404


def test_bad_access_value_is_400(api, group):
    response = api.patch("conversations/group/participants/123456", json={"access": "Admin"})
    assert response.status_code == 400 and "access" in response.json()["message"]


# --- messages -------------------------------------------------------------------------------


def send(api, text, sender="123456", **extra):
    return api.post("conversations/group/messages", json=[{"text": text, "sender": sender, "type": "UserMessage", **extra}])


def test_post_and_list_messages(api, group):
    stored = send(api, "hello", custom={"k": "v"}).json()["data"][0]
    assert stored["id"].startswith("msg_") and stored["senderId"] == "123456" and stored["origin"] == "rest"
    assert stored["custom"] == {"k": "v"} and stored["readBy"] == [] and stored["type"] == "UserMessage"
    api.post("conversations/group/messages", json=[{"text": "Welcome!", "type": "SystemMessage"}])
    listed = api.get("conversations/group/messages").json()["data"]
    assert [m["text"] for m in listed] == ["Welcome!", "hello"]  # newest first
    assert listed[0]["senderId"] is None
    assert api.get(f"conversations/group/messages/{stored['id']}").json() == stored


def test_messages_page_with_starting_after(api, group):
    for i in range(5):
        send(api, f"m{i}")
    first = api.get("conversations/group/messages", params={"limit": 2}).json()["data"]
    assert [m["text"] for m in first] == ["m4", "m3"]
    older = api.get("conversations/group/messages", params={"startingAfter": first[-1]["id"]}).json()["data"]
    assert [m["text"] for m in older] == ["m2", "m1", "m0"]


def test_same_idempotency_key_stores_one_message(api, group):
    first = send(api, "once", idempotencyKey="k1").json()["data"][0]
    again = send(api, "once", idempotencyKey="k1").json()["data"][0]
    assert again["id"] == first["id"] and message_texts(api) == ["once"]


def test_sender_who_is_not_a_participant_is_403(api, group):
    api.put("users/9", json={"name": "Nine"})
    response = send(api, "hi", sender="9")
    assert response.status_code == 403 and error_of(response) == "SENDER_NOT_PARTICIPANT"


def test_read_access_cannot_send(api, group):
    api.patch("conversations/group/participants/456789", json={"access": "Read"})
    response = send(api, "hi", sender="456789")
    assert response.status_code == 403 and error_of(response) == "READ_ONLY_ACCESS"


def test_a_batch_is_all_or_nothing(api, group):
    batch = [
        {"text": "fine", "sender": "123456", "type": "UserMessage"},
        {"text": "not allowed", "sender": "ghost", "type": "UserMessage"},
    ]
    assert api.post("conversations/group/messages", json=batch).status_code == 403
    assert message_texts(api) == []


def test_batch_over_ten_is_400(api, group):
    batch = [{"text": str(i), "sender": "123456", "type": "UserMessage"} for i in range(11)]
    response = api.post("conversations/group/messages", json=batch)
    assert response.status_code == 400 and error_of(response) == "BATCH_TOO_LARGE"
    assert message_texts(api) == []


def test_text_over_10000_characters_is_413(api, group):
    response = send(api, "x" * 10_001)
    assert response.status_code == 413 and error_of(response) == "MESSAGE_TOO_LONG"
    assert send(api, "x" * 10_000).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "a", "type": "UserMessage"}, "sender"),
        ({"text": "", "sender": "123456", "type": "UserMessage"}, "text"),
        ({"text": "a", "sender": "123456", "type": "Note"}, "type"),
        ({"text": "a", "type": "SystemMessage", "sender": "123456"}, "sender"),
        ({"text": "a", "sender": "123456", "type": "UserMessage", "custom": {"n": 1}}, "custom"),
    ],
)
def test_bad_messages_name_the_field(api, group, body, field):
    response = api.post("conversations/group/messages", json=[body])
    assert response.status_code == 400 and field in response.json()["message"]


def test_message_body_must_be_an_array(api, group):
    assert api.post("conversations/group/messages", json={"text": "a"}).status_code == 400


def test_referenced_message_must_exist(api, group):
    assert send(api, "re", referencedMessageId="msg_nope").status_code == 404
    first = send(api, "one").json()["data"][0]
    reply = send(api, "re", referencedMessageId=first["id"]).json()["data"][0]
    assert reply["referencedMessageId"] == first["id"]


def test_edit_and_delete_message(api, group):
    stored = send(api, "typo").json()["data"][0]
    path = f"conversations/group/messages/{stored['id']}"
    assert api.put(path, json={"text": "fixed", "custom": {"edited": "yes"}}).json() == {}
    edited = api.get(path).json()
    assert edited["text"] == "fixed" and edited["custom"] == {"edited": "yes"} and edited["editedAt"] >= stored["createdAt"]
    assert api.delete(path).json() == {}
    assert error_of(api.get(path)) == "MESSAGE_NOT_FOUND"
    assert api.delete(path).status_code == 404


def test_unknown_conversation_is_404(api):
    response = api.get("conversations/nope/messages")
    assert response.status_code == 404 and error_of(response) == "CONVERSATION_NOT_FOUND"


# --- a user's conversations -----------------------------------------------------------------


def test_user_conversations_newest_activity_first_with_unreads(api, group):
    api.put("conversations/other", json={"participants": ["123456", "654321"], "subject": "Other"})
    send(api, "group news")
    api.post("conversations/other/messages", json=[{"text": "psst", "sender": "123456", "type": "UserMessage"}])
    feed = api.get("users/654321/conversations").json()["data"]
    assert [c["id"] for c in feed] == ["other", "group"]
    assert [c["unreadMessageCount"] for c in feed] == [1, 1] and feed[0]["isUnread"]
    assert feed[0]["lastMessage"]["text"] == "psst" and feed[0]["access"] == "ReadWrite"
    assert [c["unreadMessageCount"] for c in api.get("users/123456/conversations").json()["data"]] == [0, 0]
    send(api, "again")
    assert [c["id"] for c in api.get("users/654321/conversations").json()["data"]] == ["group", "other"]


def test_user_conversations_filters_and_pages(api, group):
    api.put("conversations/quiet", json={"participants": ["654321"]})
    send(api, "hi")
    feed = api.get("users/654321/conversations", params={"unreadsOnly": "true"}).json()["data"]
    assert [c["id"] for c in feed] == ["group"]
    page = api.get("users/654321/conversations", params={"limit": 1}).json()["data"]
    rest = api.get("users/654321/conversations", params={"startingAfter": page[0]["id"]}).json()["data"]
    assert [c["id"] for c in page + rest] == ["group", "quiet"]
    after = api.get("users/654321/conversations", params={"lastMessageAfter": 0}).json()["data"]
    assert [c["id"] for c in after] == ["group"]


def test_unknown_user_conversations_is_404(api):
    assert api.get("users/ghost/conversations").status_code == 404
