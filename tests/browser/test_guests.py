"""Guests in Chromium: the seed's guest snippet, the lobby demo, and refusals shown readably."""

from __future__ import annotations

import json

from playwright.async_api import expect

from tests.browser import pages
from tests.realtime_client import connect
from tests.browser.conftest import ARTIFACTS, mounted, visit

ALICE = "123456"


def guest_page(parley_url: str, user: dict, conversation: str = "new_group_chat") -> str:
    """The seed's guest snippet: createChatbox(); chatbox.select(conversation, {asGuest: true})."""
    script = f"""
Talk.ready.then(function () {{
  const me = new Talk.User({json.dumps(user)});
  const session = new Talk.Session({{ appId: "demo", me: me }});
  const conversation = session.getOrCreateConversation({json.dumps(conversation)});
  const chatbox = session.createChatbox();
  chatbox.select(conversation, {{ asGuest: true }});
  window.mounted = chatbox.mount(document.getElementById("talkjs-container")).then(() => "ok", (e) => e.code);
}});"""
    return pages.page(parley_url, script)


async def test_a_guest_reads_and_writes_but_is_not_a_member(server, demo_app, host, browser, api_demo):
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    assert await mounted(alice) is None
    await alice.frame().get_by_role("textbox", name="Message").fill("welcome, guests")
    await alice.frame().get_by_role("textbox", name="Message").press("Enter")
    guest = await visit(browser, host.page("/guest.html", guest_page(server.base_url, {"id": "g1", "name": "Gina Guest"})))
    assert await mounted(guest) == "ok"
    await expect(guest.messages().filter(has_text="welcome, guests")).to_be_visible()
    await expect(guest.frame().locator(".header__subtitle")).to_have_text("3 members · you are a guest")
    await guest.frame().get_by_role("textbox", name="Message").fill("hi, I am just visiting")
    await guest.frame().get_by_role("textbox", name="Message").press("Enter")
    from_guest = alice.frame().locator(".message--theirs", has_text="hi, I am just visiting")
    await expect(from_guest.locator(".message__sender")).to_have_text("Gina Guest")
    await alice.frame().get_by_role("button", name="Members (3)").click()
    await expect(alice.frame().get_by_role("region", name="Members").get_by_text("Gina Guest")).to_have_count(0)
    assert "g1" not in api_demo.get("conversations/new_group_chat").json()["participants"]
    assert api_demo.get("users/g1/conversations").json()["data"] == []
    # typing from the guest is not shown to Alice: once Steve's typing (after it) is shown, the guest's had its chance
    await guest.frame().get_by_role("textbox", name="Message").press_sequentially("typing as a guest")
    steve = await connect(server, "demo", "456789")
    await steve.call("conversation:join", {"conversationId": "new_group_chat"})
    await steve.call("typing", {"conversationId": "new_group_chat", "isTyping": True})
    await expect(alice.frame().locator(".typing")).to_have_text("Steve is typing…")
    await steve.close()


async def test_guest_limit_is_a_readable_refusal(server, demo_app, host, browser, api_demo):
    server.update_app("demo", guestLimit=1)
    api_demo.put("conversations/new_group_chat", json={"subject": "Full room"})
    first = await visit(browser, host.page("/g1.html", guest_page(server.base_url, {"id": "g1", "name": "One"})))
    assert await mounted(first) == "ok"
    second = await visit(browser, host.page("/g2.html", guest_page(server.base_url, {"id": "g2", "name": "Two"})))
    assert await mounted(second) == "GUEST_LIMIT_REACHED"
    await expect(second.frame().get_by_role("alert")).to_contain_text("guests, the most this app allows at once")
    assert any("GUEST_LIMIT_REACHED" in line for line in second.console)


async def test_guest_access_refused_when_sync_is_disallowed(server, demo_app, host, browser, api_demo):
    api_demo.put("conversations/new_group_chat", json={"subject": "Locked"})
    server.update_app("demo", disallowUserSync=True)
    api_demo.put("users/g1", json={"name": "Known Guest"})
    visitor = await visit(browser, host.page("/g.html", guest_page(server.base_url, "g1")))  # type: ignore[arg-type]
    assert await mounted(visitor) == "GUEST_ACCESS_DISALLOWED"
    await expect(visitor.frame().get_by_role("alert")).to_contain_text("Disallow user synchronization via the browser")


async def test_the_lobby_demo_shows_guest_and_participant_side_by_side(server, demo_app, browser):
    visitor = await visit(browser, f"{server.base_url}/demo/lobby")
    await visitor.page.get_by_label("Your name").fill("Evaluator Eve")
    await visitor.page.get_by_role("button", name="Join the lobby as a guest").click()
    await visitor.page.wait_for_function("window.lobbyMounted !== undefined")
    await visitor.page.evaluate("window.lobbyMounted")
    lobby = visitor.page.frame_locator("#lobby-container iframe")
    group = visitor.page.frame_locator("#talkjs-container iframe")
    await expect(lobby.locator(".header__subtitle")).to_contain_text("you are a guest")
    await expect(group.locator(".header__title")).to_have_text("Beautiful Steel Preserve")
    await lobby.get_by_role("textbox", name="Message").fill("hello lobby")
    await lobby.get_by_role("textbox", name="Message").press("Enter")
    await expect(lobby.locator(".message--mine", has_text="hello lobby")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await visitor.page.screenshot(path=str(ARTIFACTS / "lobby.png"), full_page=True)
