"""No live message is lost at a join: events that arrive while a join is in flight are held and
merged after its answer; after a long absence the frame pages through everything it missed."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import mounted, visit
from tests.conftest import JoinHold

ALICE, SEBASTIAN = "123456", "654321"


async def test_a_message_sent_during_the_join_is_shown_once(server, demo_app, api_demo, host, browser):
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    assert await mounted(alice) is None
    hold = JoinHold(server, "new_group_chat")
    sebastian = await visit(browser, host.page("/sebastian.html", pages.group_chat(server.base_url, SEBASTIAN)))
    await asyncio.to_thread(hold.wait)  # Sebastian's join has read the history, and has not answered
    sent = api_demo.post("conversations/new_group_chat/messages",
                         json=[{"text": "sent during the join", "sender": ALICE, "type": "UserMessage"}])
    assert sent.status_code == 200
    await asyncio.sleep(0.5)  # the message reaches Sebastian's frame live, before the join's answer
    hold.release()
    assert await mounted(sebastian) is None
    await expect(sebastian.messages().filter(has_text="sent during the join")).to_have_count(1)
    await expect(sebastian.messages()).to_have_count(1)


async def test_after_a_long_absence_every_missed_message_arrives(server, demo_app, api_demo, host, browser):
    sebastian = await visit(browser, host.page("/sebastian.html", pages.group_chat(server.base_url, SEBASTIAN)))
    assert await mounted(sebastian) is None
    api_demo.post("conversations/new_group_chat/messages", json=[{"text": "before", "sender": ALICE, "type": "UserMessage"}])
    await expect(sebastian.messages()).to_have_count(1)
    await sebastian.context.set_offline(True)
    await expect(sebastian.frame().locator(".status")).to_have_text("Reconnecting…")
    for start in range(0, 250, 10):  # 250 missed: more than one join's page, fewer than ten pages
        batch = [{"text": f"missed {i}", "sender": ALICE, "type": "UserMessage"} for i in range(start, start + 10)]
        assert api_demo.post("conversations/new_group_chat/messages", json=batch).status_code == 200
    await sebastian.context.set_offline(False)
    await expect(sebastian.messages()).to_have_count(251, timeout=20_000)
    texts = await sebastian.messages().all_text_contents()
    assert texts == ["before", *(f"missed {i}" for i in range(250))]
