"""Email notifications with real browsers: a participant looking at the conversation in a focused tab
is not emailed (and is once the tab loses focus); a reply by email appears live in another's Chatbox."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import pytest
from playwright.async_api import expect

from server.config import Settings
from server.notify.targets import SmtpTarget
from tests.browser import pages
from tests.browser.conftest import ARTIFACTS, mounted, visit
from tests.conftest import free_port
from tests.notifications.conftest import outbox, smtp, wait_until  # noqa: F401 (the smtp fixture)

ALICE, SEBASTIAN, STEVE = "123456", "654321", "456789"
GROUP = "new_group_chat"


@pytest.fixture
def settings(tmp_path, smtp) -> Settings:  # noqa: F811 (the imported fixture)
    return Settings(database_url=f"sqlite:///{tmp_path}/parley.db", port=free_port(), log_level="warning",
                    smtp=SmtpTarget("127.0.0.1", smtp.port, use_tls=False), inbound_smtp=("127.0.0.1", free_port()),
                    reply_domain="replies.parley.test", notification_retry_seconds=1)


@pytest.fixture
def quiet_app(server, demo_app):
    server.update_app("demo", notificationDelay=1, notificationLink="https://www.example.com/inbox?c={conversationId}")
    return demo_app


async def say(visitor, text: str) -> None:
    box = visitor.frame().get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")
    await expect(visitor.messages().filter(has_text=text)).to_be_visible()


async def lose_focus(visitor) -> None:
    """Another tab to the front, with Playwright's focus emulation off for this page: a real blur."""
    cdp = await visitor.context.new_cdp_session(visitor.page)
    await cdp.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    other = await visitor.context.new_page()
    await other.bring_to_front()
    await visitor.page.wait_for_function("!document.hasFocus()")


def rows_for(server, user_id: str) -> list[dict]:
    return [r for r in outbox(server, "demo") if r["userId"] == user_id]


async def test_a_focused_tab_showing_the_conversation_gets_no_email_until_it_loses_focus(server, quiet_app, host, browser, smtp):  # noqa: F811
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    sebastian = await visit(browser, host.page("/sebastian.html", pages.group_chat(server.base_url, SEBASTIAN)))
    assert await mounted(alice) is None and await mounted(sebastian) is None
    await sebastian.page.wait_for_function("document.hasFocus()")
    await asyncio.to_thread(wait_until, lambda: SEBASTIAN in server.app.chat.presence.viewers_here("demo", GROUP), 10,
                            "Sebastian to be viewing the group")
    await say(alice, "Sebastian, are you there?")
    await expect(sebastian.messages().filter(has_text="Sebastian, are you there?")).to_be_visible()
    await asyncio.to_thread(smtp.inbox.wait_for, 1, "steve@example.com")  # the marker: Steve, offline, was emailed
    assert rows_for(server, SEBASTIAN) == [] and smtp.inbox.to("sebastian@example.com") == []

    await lose_focus(sebastian)
    await asyncio.to_thread(wait_until, lambda: SEBASTIAN not in server.app.chat.presence.viewers_here("demo", GROUP), 10,
                            "Sebastian to stop viewing")
    await say(alice, "Guess you went for lunch")
    [email] = await asyncio.to_thread(smtp.inbox.wait_for, 1, "sebastian@example.com")
    text = email.get_body(("plain",)).get_content()
    assert "Guess you went for lunch" in text and "are you there" not in text
    assert "https://www.example.com/inbox?c=new_group_chat" in text


async def test_a_reply_by_email_appears_live_in_another_participants_chatbox(server, settings, quiet_app, host, browser, smtp):  # noqa: F811
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    assert await mounted(alice) is None
    await say(alice, "Steve, can you bring the cake?")
    [email] = await asyncio.to_thread(smtp.inbox.wait_for, 1, "steve@example.com")
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "steve@example.com", email["Reply-To"], "Re: " + email["Subject"]
    reply.set_content("Sure, chocolate or lemon?\n\nOn Tue, Dec 1, 2026, Demo wrote:\n> Steve, can you bring the cake?\n")
    host_name, port = settings.inbound_smtp
    await aiosmtplib.send(reply, hostname=host_name, port=port, timeout=10)
    await expect(alice.messages().filter(has_text="Sure, chocolate or lemon?")).to_be_visible()
    await expect(alice.messages().filter(has_text="> Steve")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    await alice.page.screenshot(path=str(ARTIFACTS / "reply-by-email-in-chatbox.png"))
