"""Every webhook event, fired by the action that causes it, signed as TalkJS signs them."""

from __future__ import annotations

import asyncio

import httpx

from server.chat import webhook_events
from tests.realtime_client import connect
from tests.webhooks.conftest import verify


def rest(server, tenant) -> httpx.Client:
    return httpx.Client(base_url=f"{server.base_url}/v1/{tenant['appId']}/",
                        headers={"Authorization": f"Bearer {tenant['secretKey']}"}, timeout=10)


async def test_every_event_type_arrives_signed_from_the_action_that_causes_it(server, tenant, receiver):
    with rest(server, tenant) as api:
        api.put("users/bea", json={"name": "Bea", "email": ["bea@example.com"]}).raise_for_status()
        api.put("users/sam", json={"name": "Sam"}).raise_for_status()
        api.put("users/sam", json={"name": "Sam Seller"}).raise_for_status()
        api.put("conversations/order", json={"subject": "Order", "participants": ["bea"]}).raise_for_status()
        api.put("conversations/order/participants/sam", json={}).raise_for_status()
        api.put("conversations/order", json={"subject": "Order #1"}).raise_for_status()
        sent = api.post("conversations/order/messages", json=[{"text": "hi", "sender": "bea", "type": "UserMessage"}]).json()["data"]
        api.put(f"conversations/order/messages/{sent[0]['id']}", json={"text": "hi!"}).raise_for_status()
        sam = await connect(server, tenant["appId"], "sam")
        try:
            await sam.call("conversation:join", {"conversationId": "order"})
            await sam.call("conversation:read", {"conversationId": "order", "messageId": sent[0]["id"]})
            live = await sam.call("message:send", {"conversationId": "order", "text": "hello from the socket"})
        finally:
            await sam.close()
        api.delete(f"conversations/order/messages/{live['message']['id']}").raise_for_status()
        api.delete("conversations/order/participants/sam").raise_for_status()
        api.delete("conversations/order").raise_for_status()
    kinds = {"user.created", "user.updated", "conversation.created", "conversation.participant.added",
             "conversation.updated", "message.sent", "message.updated", "message.read", "message.deleted",
             "conversation.participant.removed", "conversation.deleted"}
    await asyncio.to_thread(receiver.wait_for, lambda events: kinds <= {e["type"] for e in events}, 15, "every event type")
    assert all(valid for _, valid, _ in receiver.requests)
    [created] = [e for e in receiver.of_type("conversation.created")]
    assert created["data"]["conversation"]["id"] == "order" and set(created["data"]["conversation"]["participants"]) == {"bea"}
    sent_events = receiver.of_type("message.sent")
    assert [e["data"]["message"]["text"] for e in sent_events] == ["hi", "hello from the socket"]
    assert sent_events[0]["data"]["sender"]["email"] == ["bea@example.com"] and sent_events[0]["data"]["conversation"]["subject"] == "Order #1"
    assert all(e["id"].startswith("evt_") and isinstance(e["createdAt"], int) for e in receiver.events)
    assert len({e["id"] for e in receiver.events}) == len(receiver.events)
    sams = [e["type"] for e in receiver.events if e["type"].startswith("user.") and e["data"]["user"]["id"] == "sam"]
    assert sams == ["user.created", "user.updated"]  # a user's events in order too
    # a conversation's events in the order they happened
    order = [e["type"] for e in receiver.events if e["data"].get("conversation", {}).get("id") == "order"]
    assert order.index("conversation.created") < order.index("message.sent") < order.index("conversation.deleted")
    assert set(webhook_events.TYPES) - kinds == {"notification.triggered", "notification.sent"}


def test_the_signature_fails_when_the_body_is_altered(server, tenant, receiver):
    with rest(server, tenant) as api:
        api.put("users/bea", json={"name": "Bea"}).raise_for_status()
    receiver.wait_for(lambda events: events, 10, "user.created")
    _, _, headers = receiver.requests[0]
    body = (b'{"id":"' + receiver.events[0]["id"].encode() + b'"}')
    assert not verify(tenant["secretKey"], headers["X-TalkJS-Timestamp"], body, headers["X-TalkJS-Signature"])
    assert headers["X-Parley-Signature"] == headers["X-TalkJS-Signature"] and headers["X-TalkJS-Signature"].isupper()


def test_notifications_triggered_and_sent(server, tenant, receiver):
    server.update_app(tenant["appId"], notificationDelay=0)
    with rest(server, tenant) as api:
        api.put("users/bea", json={"name": "Bea"}).raise_for_status()
        api.put("users/sam", json={"name": "Sam", "email": ["sam@example.com"]}).raise_for_status()
        api.put("conversations/order", json={"participants": ["bea", "sam"]}).raise_for_status()
        api.post("conversations/order/messages", json=[{"text": "hi", "sender": "bea", "type": "UserMessage"}]).raise_for_status()
    receiver.wait_for(lambda events: any(e["type"] == "notification.sent" for e in events), 15, "notification.sent")
    [triggered] = receiver.of_type("notification.triggered")
    [sent] = receiver.of_type("notification.sent")
    assert triggered["data"] | {"dueAt": 0} == {"conversationId": "order", "userId": "sam", "channel": "email", "dueAt": 0}
    assert sent["data"]["userId"] == "sam" and sent["data"]["messages"] == 1 and sent["data"]["channel"] == "email"
    types = [e["type"] for e in receiver.events if e["data"].get("conversationId") == "order" or e["data"].get("conversation", {}).get("id") == "order"]
    assert types.index("message.sent") < types.index("notification.triggered") < types.index("notification.sent")
