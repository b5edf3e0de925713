"""Who is notified, over real sockets: a participant viewing the conversation in a focused UI is not,
one who stops viewing is; a guest with an email never is; typing pushes the quiet period back."""

from __future__ import annotations

import asyncio

import pytest

from tests.notifications.conftest import outbox, rest, settled, wait_until
from tests.realtime_client import connect


@pytest.fixture
def order(server, tenant):
    with rest(server, tenant) as api:
        for user_id, name in (("buyer", "Bea"), ("seller", "Sam"), ("helper", "Hal"), ("visitor", "Vic")):
            assert api.put(f"users/{user_id}", json={"name": name, "email": [f"{user_id}@example.com"]}).status_code == 200
        assert api.put("conversations/order-9", json={"subject": "Order #9", "participants": ["buyer", "seller", "helper"]}).status_code == 200
        yield api


def send(api, text: str, sender: str = "buyer") -> None:
    response = api.post("conversations/order-9/messages", json=[{"text": text, "sender": sender, "type": "UserMessage"}])
    assert response.status_code == 200, response.text


async def wait_emails(smtp, count: int, address: str):
    return await asyncio.to_thread(smtp.inbox.wait_for, count, address)


async def test_a_participant_viewing_the_conversation_is_not_notified_until_they_look_away(server, tenant, order, smtp):
    sam = await connect(server, tenant["appId"], "seller")
    try:
        await sam.call("conversation:join", {"conversationId": "order-9"})
        assert await sam.call("conversation:view", {"conversationId": "order-9"}) == {"viewing": "order-9"}
        send(order, "While you watch")
        seen = await sam.next_where("message:new", lambda d: d["message"]["text"] == "While you watch")
        await sam.call("conversation:read", {"conversationId": "order-9", "messageId": seen["message"]["id"]})  # as the widget does
        await wait_emails(smtp, 1, "helper@example.com")  # the marker: Hal, away, got his
        await asyncio.to_thread(settled, server, tenant["appId"], 1)
        assert smtp.inbox.to("seller@example.com") == []
        assert [r["userId"] for r in outbox(server, tenant["appId"])] == ["helper"]  # none was even started for Sam
        assert await sam.call("conversation:view", {"conversationId": None}) == {"viewing": None}  # the tab lost focus
        send(order, "Now you looked away")
        [email] = await wait_emails(smtp, 1, "seller@example.com")
        assert "Now you looked away" in email.get_body(("plain",)).get_content()
        assert "While you watch" not in email.get_body(("plain",)).get_content()
    finally:
        await sam.close()


async def test_a_message_that_started_nothing_while_a_view_was_ending_is_in_the_next_email(server, tenant, order, smtp):
    """The view is decided when a message is stored; one that had just ended (a blur not yet heard of)
    must not cost the message: unread, it is in the next notification."""
    sam = await connect(server, tenant["appId"], "seller")
    try:
        await sam.call("conversation:join", {"conversationId": "order-9"})
        await sam.call("conversation:view", {"conversationId": "order-9"})
        send(order, "Sent as Sam looked away")  # Sam never saw it: no read marker
        await wait_emails(smtp, 1, "helper@example.com")
        await sam.call("conversation:view", {"conversationId": None})
        send(order, "And another")
        [email] = await wait_emails(smtp, 1, "seller@example.com")
    finally:
        await sam.close()
    text = email.get_body(("plain",)).get_content()
    assert "Sent as Sam looked away" in text and "And another" in text


async def test_viewing_needs_a_join_and_ends_with_the_connection(server, tenant, order, smtp):
    sam = await connect(server, tenant["appId"], "seller")
    refused = await sam.call("conversation:view", {"conversationId": "order-9"})
    assert refused["error"]["code"] == "NOT_JOINED"
    await sam.call("conversation:join", {"conversationId": "order-9"})
    await sam.call("conversation:view", {"conversationId": "order-9"})
    await sam.close()
    await asyncio.to_thread(wait_until, lambda: not server.app.chat.presence.viewers_here(tenant["appId"], "order-9"),
                            5, "the closed connection to stop viewing")
    send(order, "After you left")
    await wait_emails(smtp, 1, "seller@example.com")


async def test_a_guest_with_an_email_is_never_notified(server, tenant, order, smtp):
    vic = await connect(server, tenant["appId"], "visitor")
    try:
        joined = await vic.call("conversation:join", {"conversationId": "order-9", "asGuest": True})
        assert joined["me"]["role"] == "guest"
        assert (await vic.call("conversation:view", {"conversationId": "order-9"})) == {"viewing": None}
        await vic.close()  # offline now, as a guest who closed the tab
        send(order, "Anyone?")
        await wait_emails(smtp, 1, "seller@example.com")  # the marker
        rows = await asyncio.to_thread(settled, server, tenant["appId"], 2)
        assert {r["userId"] for r in rows} == {"seller", "helper"}
        assert smtp.inbox.to("visitor@example.com") == []
    finally:
        await vic.close()


async def test_someone_typing_pushes_the_notification_back(server, tenant, order, smtp):
    server.update_app(tenant["appId"], notificationDelay=3)
    bea = await connect(server, tenant["appId"], "buyer")
    try:
        await bea.call("conversation:join", {"conversationId": "order-9"})
        send(order, "Let me think")
        [first] = [r for r in outbox(server, tenant["appId"]) if r["userId"] == "seller"]
        await asyncio.sleep(1.1)
        await bea.call("typing", {"conversationId": "order-9", "isTyping": True})
        later = await asyncio.to_thread(wait_until, lambda: [r for r in outbox(server, tenant["appId"])
                                                             if r["userId"] == "seller" and r["dueAt"] > first["dueAt"]], 5, "a later due time")
        assert later[0]["dueAt"] - first["dueAt"] >= 1000 and later[0]["status"] == "pending"
    finally:
        await bea.close()
