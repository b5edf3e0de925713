"""The authorization matrix: every actor against every action, REST and Socket.IO, each cell's answer
stated. REST actors: the app's own key, another app's key, a wrong key, another scheme, no key at all.
Realtime actors: a participant, a guest, a connected non-member, a user of another app. A cell that
must not read a conversation also must not hear of it: checked with a marker that proves the channel.
"""

from __future__ import annotations

import httpx
import pytest

from tests.figures import record
from tests.realtime_client import connect

ALICE, VISITOR, OUTSIDER, BOB = "alice", "visitor", "outsider", "bob"
OK = "ok"

# (method, path under /v1/{app}, body): every route and method of the REST API
REST_ACTIONS = [
    ("PUT", "/users/alice", {"name": "Alice"}),
    ("GET", "/users/alice", None),
    ("GET", "/users/alice/conversations", None),
    ("GET", "/conversations", None),
    ("PUT", "/conversations/group", {"subject": "Group"}),
    ("GET", "/conversations/group", None),
    ("PUT", "/conversations/group/participants/outsider", {"access": "Read"}),
    ("PATCH", "/conversations/group/participants/outsider", {"notify": False}),
    ("GET", "/conversations/group/messages", None),
    ("POST", "/conversations/group/messages", [{"text": "hi", "sender": "alice", "type": "UserMessage"}]),
    ("GET", "/conversations/group/messages/{message}", None),
    ("PUT", "/conversations/group/messages/{message}", {"text": "edited"}),
    ("DELETE", "/conversations/group/participants/outsider", None),
    ("DELETE", "/conversations/group/messages/{message}", None),
    ("DELETE", "/conversations/scratch", None),
]
# actor -> (Authorization header or None, expected status for every action)
REST_ACTORS = {
    "own key": (lambda a, b: f"Bearer {a['secretKey']}", 200),
    "other app's key": (lambda a, b: f"Bearer {b['secretKey']}", 401),
    "wrong key": (lambda a, b: "Bearer sk_not-this-app", 401),
    "other scheme": (lambda a, b: f"Basic {a['secretKey']}", 401),
    "no key": (lambda a, b: None, 401),
}


@pytest.fixture
def world(server):
    """App A: Alice (participant of `group`), a visitor, an outsider; app B: Bob."""
    app_a, app_b = server.create_app("A"), server.create_app("B")
    a = httpx.Client(base_url=f"{server.base_url}/v1/{app_a['appId']}/", headers={"Authorization": f"Bearer {app_a['secretKey']}"})
    b = httpx.Client(base_url=f"{server.base_url}/v1/{app_b['appId']}/", headers={"Authorization": f"Bearer {app_b['secretKey']}"})
    for uid in (ALICE, VISITOR, OUTSIDER):
        a.put(f"users/{uid}", json={"name": uid.title()}).raise_for_status()
    a.put("conversations/group", json={"participants": [ALICE], "subject": "Secret plans"}).raise_for_status()
    a.put("conversations/scratch", json={"participants": [ALICE]}).raise_for_status()
    a.put("conversations/marker", json={"participants": [ALICE, OUTSIDER]}).raise_for_status()
    b.put(f"users/{BOB}", json={"name": "Bob"}).raise_for_status()
    b.put("conversations/marker", json={"participants": [BOB]}).raise_for_status()
    message = a.post("conversations/group/messages", json=[{"text": "the plan", "sender": ALICE, "type": "UserMessage"}])
    yield {"a": app_a, "b": app_b, "api_a": a, "api_b": b, "message": message.json()["data"][0]["id"]}
    a.close()
    b.close()


@pytest.mark.parametrize("actor", list(REST_ACTORS))
def test_rest_matrix(server, world, actor):
    header, expected = REST_ACTORS[actor]
    authorization = header(world["a"], world["b"])
    answers = {}
    for method, path, body in REST_ACTIONS:
        path = path.replace("{message}", world["message"])
        headers = {"Authorization": authorization} if authorization else {}
        response = httpx.request(method, f"{server.base_url}/v1/{world['a']['appId']}{path}", json=body, headers=headers)
        answers[f"{method} {path}"] = response.status_code
        if expected != 200:
            assert response.json()["errorCode"] in ("UNAUTHORIZED", "INVALID_SECRET_KEY"), (method, path, response.text)
    assert answers == {cell: expected for cell in answers}, answers
    record(f"matrix.rest.{actor}", len(answers))
    if expected != 200:  # nothing the refused actor sent was stored
        assert world["api_a"].get("conversations/group").json()["subject"] == "Secret plans"
        assert [m["text"] for m in world["api_a"].get("conversations/group/messages").json()["data"]] == ["the plan"]


def test_rest_for_an_app_that_does_not_exist(server):
    response = httpx.get(f"{server.base_url}/v1/no-such-app/conversations", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404 and response.json()["errorCode"] == "APP_NOT_FOUND"


def socket_actions(message_id: str, as_guest: bool = False) -> list[tuple[str, dict]]:
    group = "group"
    return [
        ("conversation:sync", {"conversationId": group}),
        ("conversation:join", {"conversationId": group, "asGuest": as_guest}),
        ("messages:list", {"conversationId": group, "beforeMessageId": "msg_unknown"}),
        ("messages:list", {"conversationId": group, "afterMessageId": message_id}),
        ("message:send", {"conversationId": group, "text": "from the actor"}),
        ("typing", {"conversationId": group, "isTyping": True}),
        ("conversation:read", {"conversationId": group, "messageId": message_id}),
        ("feed:list", {}),
        ("unreads:list", {}),
        ("conversation:leave", {"conversationId": group}),
    ]


# Each actor's expected answer per action, in the order of socket_actions: OK or the error code.
SOCKET_EXPECTED = {
    "participant": [OK, OK, "UNKNOWN_CURSOR", OK, OK, OK, OK, OK, OK, OK],
    "guest": [OK, OK, "UNKNOWN_CURSOR", OK, OK, OK, OK, OK, OK, OK],
    "read-only participant": [OK, OK, "UNKNOWN_CURSOR", OK, "READ_ONLY_ACCESS", OK, OK, OK, OK, OK],
    "removed participant": [OK, "NOT_A_PARTICIPANT", "NOT_A_PARTICIPANT", "NOT_A_PARTICIPANT", "SENDER_NOT_PARTICIPANT",
                            "NOT_JOINED", "NOT_A_PARTICIPANT", OK, OK, OK],
    "non-member": [OK, "NOT_A_PARTICIPANT", "NOT_A_PARTICIPANT", "NOT_A_PARTICIPANT", "SENDER_NOT_PARTICIPANT",
                   "NOT_JOINED", "NOT_A_PARTICIPANT", OK, OK, OK],
    # its sync creates a `group` of its own app (ids are per app): every later action meets that one
    "other app's user": [OK, "NOT_A_PARTICIPANT", "NOT_A_PARTICIPANT", "NOT_A_PARTICIPANT", "SENDER_NOT_PARTICIPANT",
                         "NOT_JOINED", "NOT_A_PARTICIPANT", OK, OK, OK],
}


async def _actor(server, world, actor):
    if actor == "participant":
        return await connect(server, world["a"]["appId"], ALICE), None
    if actor == "guest":
        client = await connect(server, world["a"]["appId"], VISITOR)
        assert "error" not in await client.call("conversation:join", {"conversationId": "group", "asGuest": True})
        return client, None
    if actor == "read-only participant":
        world["api_a"].put(f"conversations/group/participants/{OUTSIDER}", json={"access": "Read"}).raise_for_status()
        return await connect(server, world["a"]["appId"], OUTSIDER), None
    if actor == "removed participant":
        world["api_a"].put(f"conversations/group/participants/{OUTSIDER}").raise_for_status()
        client = await connect(server, world["a"]["appId"], OUTSIDER)
        assert "error" not in await client.call("conversation:join", {"conversationId": "group"})
        world["api_a"].delete(f"conversations/group/participants/{OUTSIDER}").raise_for_status()
        await client.next_where("participant:removed", lambda d: d["userId"] == OUTSIDER)
        return client, None
    if actor == "non-member":
        return await connect(server, world["a"]["appId"], OUTSIDER), None
    return await connect(server, world["b"]["appId"], BOB), None


@pytest.mark.parametrize("actor", list(SOCKET_EXPECTED))
async def test_socket_matrix(server, world, actor):
    client, _ = await _actor(server, world, actor)
    answers = []
    for event, payload in socket_actions(world["message"], as_guest=actor == "guest"):
        answer = await client.call(event, payload)
        answers.append(answer["error"]["code"] if isinstance(answer, dict) and "error" in answer else OK)
        if event in ("feed:list", "unreads:list") and actor not in ("participant", "read-only participant"):
            listed = answer.get("conversations", answer.get("unreads", []))
            assert all((c.get("id") or c["conversation"]["id"]) != "group" for c in listed), (actor, event, listed)
    assert answers == SOCKET_EXPECTED[actor], dict(zip([e for e, _ in socket_actions("")], answers))
    record(f"matrix.realtime.{actor}", len(answers))
    stored = [m["text"] for m in world["api_a"].get("conversations/group/messages").json()["data"]]
    assert ("from the actor" in stored) == (actor in ("participant", "guest"))
    if actor == "other app's user":  # app A's conversation is untouched; B's own `group` is empty
        assert set(world["api_a"].get("conversations/group").json()["participants"]) == {ALICE}
        assert world["api_b"].get("conversations/group/messages").json()["data"] == []
    await client.close()


@pytest.mark.parametrize("actor", ["non-member", "removed participant", "other app's user"])
async def test_actors_who_may_not_read_hear_nothing_of_the_conversation(server, world, actor):
    client, _ = await _actor(server, world, actor)
    await client.call("conversation:join", {"conversationId": "group"})  # refused; must not enter the room
    world["api_a"].post("conversations/group/messages", json=[{"text": "for members only", "sender": ALICE, "type": "UserMessage"}])
    marker_api = world["api_b"] if actor == "other app's user" else world["api_a"]
    sender = BOB if actor == "other app's user" else OUTSIDER
    marker_api.post("conversations/marker/messages", json=[{"text": "marker", "sender": sender, "type": "UserMessage"}])
    seen = []
    while True:  # the marker comes through the actor's own room: anything of `group` would come before it
        event = await client.next("message:new")
        if event["message"]["text"] == "marker":
            break
        seen.append(event["message"]["text"])
    assert "for members only" not in seen
    await client.close()


async def test_a_connection_without_auth_is_refused(server):
    from tests.test_realtime import refused

    assert (await refused(server, None)).startswith("INVALID_INPUT")
    assert (await refused(server, {"appId": "nope", "me": "x"})).startswith("APP_NOT_FOUND")
