"""Rate limits as a visitor meets them: told in plain words, and the chat carries on by itself."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import mounted, visit

ALICE, SEBASTIAN = "123456", "654321"


async def send(visitor, text: str) -> None:
    box = visitor.frame().get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def test_sending_too_fast_waits_and_then_sends(server, demo_app, host, browser):
    # a window wide enough that three quick sends fall in it even on a loaded machine
    server.update_app("demo", messagesPerConnection="2/10 seconds")
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    sebastian = await visit(browser, host.page("/sebastian.html", pages.group_chat(server.base_url, SEBASTIAN)))
    assert await mounted(alice) is None and await mounted(sebastian) is None
    for text in ("one", "two", "three"):
        await send(alice, text)
    notice = alice.frame().get_by_role("alert")
    await expect(notice).to_contain_text("You're going a little fast for this chat. Trying again in")
    assert "RATE_LIMITED" not in (await notice.text_content())
    await expect(sebastian.messages()).to_have_text(["one", "two", "three"], timeout=20_000)
    await expect(notice).to_be_hidden()


async def test_a_refused_connection_is_retried_when_allowed(server, demo_app, host, browser):
    server.update_app("demo", connectionsPerAddress="1/4 seconds")
    first = await visit(browser, host.page("/first.html", pages.group_chat(server.base_url, ALICE)))
    assert await mounted(first) is None
    second = await visit(browser, host.page("/second.html", pages.group_chat(server.base_url, SEBASTIAN)))
    await expect(second.frame().get_by_role("alert")).to_contain_text("going a little fast", timeout=10_000)
    assert await mounted(second) is None  # connected once the window passed
    await send(second, "made it")
    await expect(first.messages().filter(has_text="made it")).to_have_count(1)
