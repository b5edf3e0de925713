"""Reply by email into Parley's inbound SMTP listener (aiosmtplib as the mail client), and the
one-click unsubscribe link."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from server.chat import replies
from tests.notifications.conftest import outbox, rest, settled
from tests.realtime_client import connect


@pytest.fixture
def order(server, tenant):
    with rest(server, tenant) as api:
        assert api.put("users/buyer", json={"name": "Bea Buyer", "email": ["bea@example.com"]}).status_code == 200
        assert api.put("users/seller", json={"name": "Sam Seller", "email": ["sam@example.com"]}).status_code == 200
        assert api.put("users/reader", json={"name": "Rita", "email": ["rita@example.com"]}).status_code == 200
        assert api.put("conversations/order-5", json={"subject": "Order #5", "participants": ["buyer", "seller"]}).status_code == 200
        assert api.put("conversations/order-5/participants/reader", json={"access": "Read"}).status_code == 200
        yield api


def send(api, text: str, sender: str = "buyer") -> None:
    response = api.post("conversations/order-5/messages", json=[{"text": text, "sender": sender, "type": "UserMessage"}])
    assert response.status_code == 200, response.text


async def notified(smtp, address: str, count: int = 1):
    return (await asyncio.to_thread(smtp.inbox.wait_for, count, address))[count - 1]


def reply_to(notification, body: str, sender: str = "sam@example.com") -> EmailMessage:
    reply = EmailMessage()
    reply["From"], reply["To"] = sender, notification["Reply-To"]
    reply["Subject"] = "Re: " + notification["Subject"]
    reply["In-Reply-To"] = notification["Message-ID"]
    reply.set_content(body)
    return reply


async def deliver(settings, message: EmailMessage, to: str | None = None):
    host, port = settings.inbound_smtp
    return await aiosmtplib.send(message, hostname=host, port=port, recipients=[to] if to else None, timeout=10)


GMAIL_STYLE = """Yes, I can do Friday.

Best regards,
Sam

On Tue, 1 Dec 2026 at 15:04, Acme Market <notifications@replies.parley.test> wrote:
> Bea Buyer sent you a message in Order #5
> Can you ship it this week?
"""


async def test_a_reply_by_email_is_posted_live_without_its_quote_and_signature(server, settings, tenant, order, smtp):
    send(order, "Can you ship it this week?")
    email = await notified(smtp, "sam@example.com")
    bea = await connect(server, tenant["appId"], "buyer")
    try:
        await bea.call("conversation:join", {"conversationId": "order-5"})
        await deliver(settings, reply_to(email, GMAIL_STYLE))
        live = await bea.next_where("message:new", lambda d: d["message"]["senderId"] == "seller")
    finally:
        await bea.close()
    assert live["message"]["text"] == "Yes, I can do Friday."
    assert live["message"]["origin"] == "email" and live["message"]["type"] == "UserMessage"
    stored = order.get("conversations/order-5/messages").json()["data"][0]
    assert stored["text"] == "Yes, I can do Friday." and stored["origin"] == "email"
    # the reply notifies like any message: Bea (no longer connected) is emailed about it
    to_bea = await notified(smtp, "bea@example.com")
    assert "Yes, I can do Friday." in to_bea.get_body(("plain",)).get_content()


async def test_forged_reused_and_read_only_reply_addresses_are_refused_at_rcpt(server, settings, tenant, order, smtp):
    send(order, "Hello")
    email = await notified(smtp, "sam@example.com")
    address = email["Reply-To"]
    number, signature = address.split("@")[0].split("-")[1:]
    forged = f"reply-{number}-{'0' * len(signature)}@replies.parley.test"
    for bad in (forged, f"reply-{int(number) + 1}-{signature}@replies.parley.test", f"reply-{number}-{signature}@elsewhere.test",
                "postmaster@replies.parley.test"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await deliver(settings, reply_to(email, "forged"), to=bad)
        assert refused.value.recipients[0].code == 550
    await deliver(settings, reply_to(email, "The real one"))
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as reused:
        await deliver(settings, reply_to(email, "Again"))
    assert "already answered" in reused.value.recipients[0].message
    # Rita (Read access) has no Reply-To; a correctly signed address for her notification is still refused
    await notified(smtp, "rita@example.com")
    rita = [r for r in outbox(server, tenant["appId"]) if r["userId"] == "reader" and r["status"] == "sent"][-1]
    signer = await replies.signer(server.app.chat)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as read_only:
        await deliver(settings, reply_to(email, "From a reader"), to=signer.reply_address(rita["id"], "replies.parley.test"))
    assert "read this conversation but not write" in read_only.value.recipients[0].message
    texts = [m["text"] for m in order.get("conversations/order-5/messages").json()["data"]]
    assert texts == ["The real one", "Hello"]


async def test_an_empty_reply_posts_nothing_and_a_huge_one_is_refused(server, settings, tenant, order, smtp):
    send(order, "Hello")
    email = await notified(smtp, "sam@example.com")
    await deliver(settings, reply_to(email, "> Hello\n>\n\n-- \nSam\n"))
    with pytest.raises(aiosmtplib.SMTPResponseException) as too_big:
        await deliver(settings, reply_to(email, "x" * 1_200_000))
    assert too_big.value.code == 552
    await deliver(settings, reply_to(email, "Now with words"))  # the marker: the address still works
    texts = [m["text"] for m in order.get("conversations/order-5/messages").json()["data"]]
    assert texts == ["Now with words", "Hello"]


async def test_the_unsubscribe_link_turns_notify_off_for_that_conversation(server, settings, tenant, order, smtp):
    send(order, "First")
    email = await notified(smtp, "sam@example.com")
    link = email["List-Unsubscribe"].strip("<>")
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(link)
        assert page.status_code == 200 and "Stop emails about this conversation?" in page.text
        assert order.get("conversations/order-5").json()["participants"]["seller"]["notify"] is True  # a GET changes nothing
        one_click = await client.post(link, content="List-Unsubscribe=One-Click",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert one_click.status_code == 200 and "no longer get emails" in one_click.text
        forged = await client.post(link[:-3] + "abc", content="List-Unsubscribe=One-Click",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert forged.status_code == 400 and "not valid" in forged.text
    assert order.get("conversations/order-5").json()["participants"]["seller"]["notify"] is False
    send(order, "Second")
    await notified(smtp, "rita@example.com", 2)  # the marker: Rita still hears of it
    await asyncio.to_thread(settled, server, tenant["appId"], 3)
    assert len(smtp.inbox.to("sam@example.com")) == 1


async def test_an_automatic_reply_is_not_posted_and_the_address_still_works(server, settings, tenant, order, smtp):
    send(order, "Hello")
    email = await notified(smtp, "sam@example.com")
    away = reply_to(email, "I am out of the office until Monday.")
    away["Auto-Submitted"] = "auto-replied"
    await deliver(settings, away)
    await deliver(settings, reply_to(email, "Back now"))  # the marker, and proof the token was not used up
    texts = [m["text"] for m in order.get("conversations/order-5/messages").json()["data"]]
    assert texts == ["Back now", "Hello"]


async def test_a_reply_in_an_unknown_charset_is_still_posted(server, settings, tenant, order, smtp):
    send(order, "Hello")
    email = await notified(smtp, "sam@example.com")
    raw = (f"From: sam@example.com\r\nTo: {email['Reply-To']}\r\nSubject: Re: hi\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nSee you at 5\r\n").encode()
    host, port = settings.inbound_smtp
    await aiosmtplib.send(raw, sender="sam@example.com", recipients=[email["Reply-To"]], hostname=host, port=port, timeout=10)
    texts = [m["text"] for m in order.get("conversations/order-5/messages").json()["data"]]
    assert texts == ["See you at 5", "Hello"]
