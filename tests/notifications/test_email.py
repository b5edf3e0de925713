"""Email notifications end to end: who gets one, grouping, what it says, and what is left out."""

from __future__ import annotations

import asyncio

import pytest

from tests.notifications.conftest import rest, settled
from tests.realtime_client import Client

PEOPLE = {
    "buyer": {"name": "Bea Buyer", "email": ["bea@example.com"]},
    "seller": {"name": "Sam Seller", "email": ["sam@example.com", "sam.backup@example.com"]},
    "quiet": {"name": "Quinn", "email": ["quinn@example.com"]},
    "mentions": {"name": "Mona", "email": ["mona@example.com"]},
    "reader": {"name": "Rita Reader", "email": ["rita@example.com"]},
}


@pytest.fixture
def order(server, tenant):
    """Conversation order-42: buyer and seller, Quinn (notify off), Mona (mentions only), Rita (Read access)."""
    with rest(server, tenant) as api:
        for user_id, user in PEOPLE.items():
            assert api.put(f"users/{user_id}", json=user).status_code == 200
        assert api.put("conversations/order-42", json={"subject": "Order #42", "participants": ["buyer", "seller"]}).status_code == 200
        assert api.put("conversations/order-42/participants/quiet", json={"notify": False}).status_code == 200
        assert api.put("conversations/order-42/participants/mentions", json={"notify": "MentionsOnly"}).status_code == 200
        assert api.put("conversations/order-42/participants/reader", json={"access": "Read"}).status_code == 200
        yield api


def send(api, text, sender="buyer", conversation="order-42"):
    response = api.post(f"conversations/{conversation}/messages", json=[{"text": text, "sender": sender, "type": "UserMessage"}])
    assert response.status_code == 200, response.text


def test_an_offline_participant_gets_one_grouped_email_for_three_messages(server, tenant, order, smtp):
    for text in ("Hi, is it still for sale?", "I can pick it up <b>today</b>", "Let me know!"):
        send(order, text)
    rows = settled(server, tenant["appId"], 2)
    [email] = smtp.inbox.wait_for(1, "sam@example.com")
    assert email["Subject"] == "3 new messages in Order #42 (Acme Market)"
    assert "Acme Market" in email["From"]
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Hi, is it still for sale?" in body and "Let me know!" in body and "Bea Buyer" in body
        assert "https://shop.example.com/chat/order-42" in body
    assert "I can pick it up <b>today</b>" in text
    assert "I can pick it up &lt;b&gt;today&lt;/b&gt;" in html and "<b>today" not in html
    assert email["List-Unsubscribe"].startswith("<http://127.0.0.1:") and "/notifications/unsubscribe?token=" in email["List-Unsubscribe"]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Reply-To"].startswith("reply-") and email["Reply-To"].endswith("@replies.parley.test")
    # both of Sam's addresses, one email each; Rita (Read access) too
    assert len(smtp.inbox.to("sam.backup@example.com")) == 1
    [rita] = smtp.inbox.wait_for(1, "rita@example.com")
    assert "Reply-To" not in rita, "Read access: no reply address (replies would be refused)"
    sent = {r["userId"]: r for r in rows if r["channel"] == "email"}
    assert set(sent) == {"seller", "reader"} and all(r["status"] == "sent" and r["messages"] == 3 for r in sent.values())


def test_the_sender_a_participant_with_notify_off_and_a_system_message_get_nothing(server, tenant, order, smtp):
    send(order, "Only for the seller")
    order.post("conversations/order-42/messages", json=[{"text": "Order shipped", "type": "SystemMessage"}])
    settled(server, tenant["appId"], 2)
    # the marker: Sam's email arrived, so everything that was due went out
    [email] = smtp.inbox.wait_for(1, "sam@example.com")
    assert "Order shipped" not in email.get_body(("plain",)).get_content()
    for nobody in ("bea@example.com", "quinn@example.com", "mona@example.com"):
        assert smtp.inbox.to(nobody) == []


def test_mentions_only_is_told_of_messages_that_mention_them(server, tenant, order, smtp):
    send(order, "Is anyone there?")
    send(order, "@Mona can you check the stock?")
    send(order, "cc @mentions")
    settled(server, tenant["appId"], 2)
    [email] = smtp.inbox.wait_for(1, "mona@example.com")
    text = email.get_body(("plain",)).get_content()
    assert "@Mona can you check the stock?" in text and "cc @mentions" in text
    assert "Is anyone there?" not in text


async def test_messages_read_before_the_quiet_period_ends_are_left_out(server, tenant, order, smtp):
    server.update_app(tenant["appId"], notificationDelay=3)  # time enough to connect and read
    send(order, "First")
    send(order, "Second")
    sam = await Client().connect(server.base_url, {"appId": tenant["appId"], "me": "seller"})
    try:
        joined = await sam.call("conversation:join", {"conversationId": "order-42"})
        latest = joined["messages"][-1]["id"]
        assert (await sam.call("conversation:read", {"conversationId": "order-42", "messageId": latest}))["tracked"]
    finally:
        await sam.sio.disconnect()
    rows = await asyncio.to_thread(settled, server, tenant["appId"], 2)
    await asyncio.to_thread(smtp.inbox.wait_for, 1, "rita@example.com")  # the marker: Rita read nothing
    assert smtp.inbox.to("sam@example.com") == []
    [skipped] = [r for r in rows if r["userId"] == "seller"]
    assert skipped["status"] == "skipped" and "read" in skipped["detail"]


def test_an_invalid_address_is_skipped_and_the_others_still_get_theirs(server, tenant, order, smtp):
    order.put("users/seller", json={"email": ["not an address", "sam@example.com"]})
    smtp.inbox.refuse["rita@example.com"] = "550 5.1.1 no such mailbox"
    send(order, "Hello")
    rows = settled(server, tenant["appId"], 2)
    smtp.inbox.wait_for(1, "sam@example.com")
    seller = next(r for r in rows if r["userId"] == "seller" and r["channel"] == "email")
    assert seller["status"] == "sent" and "'not an address'" not in seller["detail"]
    assert "not an address refused: not a valid email address" in seller["detail"]
    rita = next(r for r in rows if r["userId"] == "reader")
    assert rita["status"] == "failed" and "no such mailbox" in rita["detail"]


def test_line_breaks_in_a_subject_or_name_cannot_start_a_header(server, tenant, order, smtp):
    order.put("conversations/order-42", json={"subject": "Order #42\r\nBcc: victim@example.com"}).raise_for_status()
    order.put("users/buyer", json={"name": "Bea\nX-Injected: yes"}).raise_for_status()
    send(order, "Hello")
    [email] = smtp.inbox.wait_for(1, "sam@example.com")
    assert email["Subject"] == "Bea X-Injected: yes sent you a message in Order #42 Bcc: victim@example.com (Acme Market)"
    assert email["Bcc"] is None and email["X-Injected"] is None
    assert smtp.inbox.to("victim@example.com") == []
