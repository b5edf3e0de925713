"""Rate limits at every entrance: refused with RATE_LIMITED and retryAfter (HTTP 429 + Retry-After),
nothing stored, each limit per app; and the limits library's storage as Parley runs it."""

from __future__ import annotations

import asyncio

import httpx
import limits
import pytest

from server.chat import _limits_storage, lookup, serialize
from server.chat.ratelimits import RULES, RateLimiter, parse_rate
from server.chat.errors import InvalidInput
from tests.realtime_client import Client, connect

ALICE = {"id": "alice", "name": "Alice"}


@pytest.fixture
def room(api):
    api.put("users/alice", json=ALICE)
    api.put("users/bob", json={"name": "Bob"})
    api.put("conversations/room", json={"participants": ["alice", "bob"]})
    return "room"


def stored_texts(api, conversation="room") -> list[str]:
    return [m["text"] for m in api.get(f"conversations/{conversation}/messages").json()["data"]]


def test_rest_calls_over_the_apps_rate_get_429_with_retry_after(server, tenant, api):
    server.update_app(tenant["appId"], restCallsPerApp="3/minute")
    for i in range(3):
        assert api.put(f"users/u{i}", json={"name": "U"}).status_code == 200
    refused = api.put("users/u3", json={"name": "U"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["errorCode"] == "RATE_LIMITED" and body["retryAfter"] >= 1 and "3/minute" in body["message"]
    server.update_app(tenant["appId"], restCallsPerApp="")  # back to the default
    assert api.get("users/u3").status_code == 404  # the refused call stored nothing


async def test_messages_per_connection(server, tenant, api, room):
    server.update_app(tenant["appId"], messagesPerConnection="3/minute")
    alice = await connect(server, tenant["appId"], "alice")
    for i in range(3):
        assert "message" in await alice.call("message:send", {"conversationId": room, "text": f"m{i}"})
    refused = await alice.call("message:send", {"conversationId": room, "text": "one too many"})
    assert refused["error"]["code"] == "RATE_LIMITED" and refused["error"]["retryAfter"] >= 1
    assert "one too many" not in stored_texts(api)
    second = await connect(server, tenant["appId"], "alice")  # per connection: another one may send
    assert "message" in await second.call("message:send", {"conversationId": room, "text": "from the other tab"})
    await alice.close()
    await second.close()


async def test_messages_per_user_across_connections(server, tenant, api, room):
    server.update_app(tenant["appId"], messagesPerUser="2/minute")
    tabs = [await connect(server, tenant["appId"], "alice") for _ in range(3)]
    assert "message" in await tabs[0].call("message:send", {"conversationId": room, "text": "one"})
    assert "message" in await tabs[1].call("message:send", {"conversationId": room, "text": "two"})
    refused = await tabs[2].call("message:send", {"conversationId": room, "text": "three"})
    assert refused["error"]["code"] == "RATE_LIMITED"
    bob = await connect(server, tenant["appId"], "bob")  # another user is not affected
    assert "message" in await bob.call("message:send", {"conversationId": room, "text": "bob's"})
    for client in (*tabs, bob):
        await client.close()


async def test_joins_per_connection(server, tenant, room):
    server.update_app(tenant["appId"], joinsPerConnection="2/minute")
    alice = await connect(server, tenant["appId"], "alice")
    for _ in range(2):
        assert "error" not in await alice.call("conversation:join", {"conversationId": room})
    assert (await alice.call("conversation:join", {"conversationId": room}))["error"]["code"] == "RATE_LIMITED"
    await alice.close()


async def test_connections_per_address_are_refused_with_a_retry_time(server, tenant, room):
    server.update_app(tenant["appId"], connectionsPerAddress="2/minute")
    first = [await connect(server, tenant["appId"], "alice") for _ in range(2)]
    refused = Client()
    with pytest.raises(Exception):
        await refused.connect(server.base_url, {"appId": tenant["appId"], "me": "alice"})
    error = await refused.next("connect_error")
    assert error["data"]["code"] == "RATE_LIMITED" and error["data"]["retryAfter"] >= 1
    for client in first:
        await client.close()


async def test_users_created_by_browser_sync_per_address(server, tenant, api, room):
    server.update_app(tenant["appId"], usersCreatedPerAddress="2/minute")
    created = [await connect(server, tenant["appId"], {"id": f"new{i}", "name": "New"}) for i in range(2)]
    refused = Client()
    with pytest.raises(Exception):
        await refused.connect(server.base_url, {"appId": tenant["appId"], "me": {"id": "new2", "name": "New"}})
    assert (await refused.next("connect_error"))["data"]["code"] == "RATE_LIMITED"
    assert api.get("users/new2").status_code == 404
    returning = await connect(server, tenant["appId"], {"id": "new0", "name": "New"})  # existing users still come in
    # and setParticipant with new users counts too
    refused_sync = await returning.call("conversation:sync", {"conversationId": "fresh", "participants": [
        {"user": {"id": "new3", "name": "N"}}, {"user": {"id": "new4", "name": "N"}}]})
    assert refused_sync["error"]["code"] == "RATE_LIMITED" and api.get("users/new3").status_code == 404
    for client in (*created, returning):
        await client.close()


async def test_typing_is_coalesced_server_side(server, tenant, api, room):
    alice = await connect(server, tenant["appId"], "alice")
    bob = await connect(server, tenant["appId"], "bob")
    for client in (alice, bob):
        await client.call("conversation:join", {"conversationId": room})
    for _ in range(50):
        assert await alice.call("typing", {"conversationId": room, "isTyping": True}) == {}
    await alice.call("typing", {"conversationId": room, "isTyping": False})
    await alice.call("typing", {"conversationId": room, "isTyping": False})  # nothing shown: nothing to stop
    await alice.call("message:send", {"conversationId": room, "text": "marker"})
    await bob.next_where("message:new", lambda d: d["message"]["text"] == "marker")
    seen = []
    while not bob.received["typing"].empty():
        seen.append(bob.received["typing"].get_nowait()["isTyping"])
    assert seen == [True, False]  # one start for fifty, one stop
    await alice.close()
    await bob.close()


def test_rates_are_checked_when_set(server, tenant):
    assert parse_rate("messagesPerUser", " 20/10 seconds ") == "20/10 seconds"
    with pytest.raises(InvalidInput, match="messagesPerUser must be a rate like"):
        parse_rate("messagesPerUser", "lots")
    with pytest.raises(InvalidInput, match="at least 1"):
        parse_rate("messagesPerUser", "0/minute")
    app = server.app.chat.db.read_blocking(lookup.find_app, tenant["appId"])
    assert set(serialize.app_json(app)["rateLimits"]) == set(RULES)


async def test_the_limits_storage_counts_for_real_and_sweeps_rarely():
    _limits_storage.check()
    limiter = RateLimiter()
    item = limits.parse("2/second")
    for _ in range(2):
        await limiter.hit_item(item, ("t",), "tests")
    with pytest.raises(Exception, match="try again in 1 s"):
        await limiter.hit_item(item, ("t",), "tests")
    await asyncio.sleep(1.1)  # hits outside the window no longer count, swept or not
    await limiter.hit_item(item, ("t",), "tests")
    assert limiter.storage.keys() == 1
    await asyncio.sleep(1.1)
    limiter.storage.sweep()  # what the sweep (every 10 s, not every hit) gives back
    assert limiter.storage.keys() == 0


def test_app_set_takes_rate_limits_on_the_command_line(settings, tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PARLEY_DATABASE_URL": settings.database_url}
    run = [sys.executable, "-m", "server", "app"]
    created = json.loads(subprocess.run([*run, "create", "--name", "CLI"], env=env, capture_output=True, text=True, check=True).stdout)
    done = subprocess.run([*run, "set", created["appId"], "messagesPerUser=5/minute", "joinsPerConnection=10/minute"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rates = json.loads(done.stdout)["rateLimits"]
    assert rates["messagesPerUser"] == "5/minute" and rates["joinsPerConnection"] == "10/minute"
    assert rates["messagesPerConnection"] == RULES["messagesPerConnection"].default
    bad = subprocess.run([*run, "set", created["appId"], "messagesPerUser=fast"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "messagesPerUser must be a rate like" in bad.stderr


def test_retry_after_is_an_http_header_too(server, tenant, api):
    server.update_app(tenant["appId"], restCallsPerApp="1/minute")
    api.get("conversations")
    response = httpx.get(f"{server.base_url}/v1/{tenant['appId']}/conversations",
                         headers={"Authorization": f"Bearer {tenant['secretKey']}"})
    assert response.status_code == 429 and response.headers["retry-after"].isdigit()


async def test_with_redis_the_counts_are_shared_between_limiters(redis_url):
    import uuid

    url = redis_url
    one, other = RateLimiter(url), RateLimiter(url)  # as two server processes would have
    identity = ("shared", str(uuid.uuid4()))
    item = limits.parse("3/minute")
    await one.hit_item(item, identity, "tests")
    await other.hit_item(item, identity, "tests")
    await one.hit_item(item, identity, "tests")
    with pytest.raises(Exception, match="RATE_LIMITED|try again"):
        await other.hit_item(item, identity, "tests")
    # per-connection rules stay local: a connection lives in one process
    await one.hit("messagesPerConnection", '{"messagesPerConnection": "1/minute"}', "app", "conn")
    await other.hit("messagesPerConnection", '{"messagesPerConnection": "1/minute"}', "app", "conn")
    await one.close()
    await other.close()
