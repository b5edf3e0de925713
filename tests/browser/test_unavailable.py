"""Redis out of reach, as a visitor meets it: a guest arriving then is told in plain words (no code),
and the chat lets them in by itself once the server can count guest places again. Desktop and phone."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import mounted, visit
from tests.browser.test_guests import guest_page
from tests.conftest import serve

ALICE = "123456"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def server(settings, private_redis):
    with serve(settings.replace(redis_url=private_redis.url)) as live:
        yield live


@pytest.mark.parametrize("device", ["desktop", "phone"])
async def test_a_guest_arriving_while_redis_is_away_gets_in_once_it_is_back(server, demo_app, host, browser, private_redis,
                                                                             device):
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    assert await mounted(alice) is None
    await alice.frame().get_by_role("textbox", name="Message").fill("hello, lobby")
    await alice.frame().get_by_role("textbox", name="Message").press("Enter")
    await expect(alice.messages().filter(has_text="hello, lobby")).to_have_count(1)

    private_redis.kill()
    options = PHONE if device == "phone" else {}
    guest = await visit(browser, host.page("/guest.html", guest_page(server.base_url, {"id": "g1", "name": "Gina"})), **options)
    notice = guest.frame().get_by_role("alert")
    await expect(notice).to_contain_text("The chat can't let you in right this moment", timeout=10_000)
    assert "TEMPORARILY_UNAVAILABLE" not in (await notice.text_content())
    await guest.page.screenshot(path=f"test-artifacts/unavailable-{device}.png")

    private_redis.start()
    await expect(guest.messages().filter(has_text="hello, lobby")).to_have_count(1, timeout=15_000)
    await expect(notice).to_be_hidden()
