"""Notifications with two processes on PostgreSQL and Redis: a participant viewing the conversation
through one process is not emailed about a message sent through the other, until they look away."""

from __future__ import annotations

import asyncio

import redis

from tests.cluster.conftest import rest
from tests.notifications.conftest import smtp, wait_until  # noqa: F401 (the smtp fixture)
from tests.realtime_client import connect


def viewing_in_redis(redis_url: str, app_id: str, conversation_id: str) -> set[str]:
    """Who the processes' shared presence says is viewing the conversation."""
    client = redis.Redis.from_url(redis_url)
    try:
        viewers: set[str] = set()
        for key in client.scan_iter("parley:node:*:views"):
            value = client.hget(key, f"{app_id}\0{conversation_id}")
            viewers |= set(value.decode().split("\0")) if value else set()
        return viewers
    finally:
        client.close()


async def test_a_viewer_on_one_process_is_not_emailed_for_a_message_sent_through_the_other(cluster, smtp):  # noqa: F811
    one, two = cluster.start(2, PARLEY_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}")
    tenant = one.create_app("Acme Market")
    one.set_app(tenant["appId"], notificationDelay="1")
    with rest(one, tenant) as api:
        for user_id in ("buyer", "seller", "helper"):
            assert api.put(f"users/{user_id}", json={"name": user_id, "email": [f"{user_id}@example.com"]}).status_code == 200
        assert api.put("conversations/order", json={"participants": ["buyer", "seller", "helper"]}).status_code == 200
        sam = await connect(two, tenant["appId"], "seller")
        try:
            await sam.call("conversation:join", {"conversationId": "order"})
            await sam.call("conversation:view", {"conversationId": "order"})
            await asyncio.to_thread(wait_until, lambda: "seller" in viewing_in_redis(cluster.redis_url, tenant["appId"], "order"),
                                    5, "the view to reach Redis")
            api.post("conversations/order/messages", json=[{"text": "watched", "sender": "buyer", "type": "UserMessage"}]).raise_for_status()
            seen = await sam.next_where("message:new", lambda d: d["message"]["text"] == "watched")
            await sam.call("conversation:read", {"conversationId": "order", "messageId": seen["message"]["id"]})  # as the widget does
            await asyncio.to_thread(smtp.inbox.wait_for, 1, "helper@example.com")  # the marker
            await sam.call("conversation:view", {"conversationId": None})
            await asyncio.to_thread(wait_until, lambda: "seller" not in viewing_in_redis(cluster.redis_url, tenant["appId"], "order"),
                                    5, "the end of the view to reach Redis")
            api.post("conversations/order/messages", json=[{"text": "unwatched", "sender": "buyer", "type": "UserMessage"}]).raise_for_status()
            [email] = await asyncio.to_thread(smtp.inbox.wait_for, 1, "seller@example.com")
        finally:
            await sam.close()
    text = email.get_body(("plain",)).get_content()
    assert "unwatched" in text and "watched" not in text.replace("unwatched", "")
    assert one.tracebacks() == [] and two.tracebacks() == []
