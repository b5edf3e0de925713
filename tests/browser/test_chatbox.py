"""The Chatbox in real Chromium: three visitors on a documentation-style host page."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import ARTIFACTS, mounted, visit

ALICE, SEBASTIAN, STEVE = "123456", "654321", "456789"


@pytest.fixture
async def trio(server, demo_app, host, browser):
    visitors = []
    for uid in (ALICE, SEBASTIAN, STEVE):
        url = host.page(f"/chat-{uid}.html", pages.group_chat(server.base_url, uid))
        visitor = await visit(browser, url)
        await mounted(visitor)
        visitors.append(visitor)
    return visitors


async def send(visitor, text: str) -> None:
    box = visitor.frame().get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def test_a_message_from_alice_reaches_sebastian_and_steve(trio):
    alice, sebastian, steve = trio
    await send(alice, "Hello from Alice")
    for visitor in (sebastian, steve):
        message = visitor.frame().locator(".message--theirs", has_text="Hello from Alice")
        await expect(message).to_be_visible()
        await expect(message.locator(".message__sender")).to_have_text("Alice")
    await expect(alice.frame().locator(".message--mine", has_text="Hello from Alice")).to_be_visible()


async def test_header_shows_subject_photo_and_members(trio):
    frame = trio[1].frame()
    await expect(frame.locator(".header__title")).to_have_text("Beautiful Steel Preserve")
    photo = frame.locator(".header__photo img")
    assert (await photo.get_attribute("src")).endswith("/demo/avatars/group.svg")
    await frame.get_by_role("button", name="Members (3)").click()
    members = frame.get_by_role("region", name="Members")
    for name in ("Alice", "Sebastian (you)", "Steve"):
        await expect(members.get_by_text(name)).to_be_visible()


async def test_typing_indicator_is_shown_to_the_others(trio):
    alice, sebastian, steve = trio
    await alice.frame().get_by_role("textbox", name="Message").press_sequentially("typing away")
    for visitor in (sebastian, steve):
        await expect(visitor.frame().locator(".typing")).to_have_text("Alice is typing…")
    await expect(alice.frame().locator(".typing")).to_have_text("")
    await alice.frame().get_by_role("textbox", name="Message").press("Enter")
    await expect(sebastian.frame().locator(".typing")).to_have_text("")


async def test_reload_keeps_history(trio):
    alice, sebastian, _ = trio
    await send(alice, "still here after a reload")
    await expect(sebastian.messages().filter(has_text="still here after a reload")).to_be_visible()
    await sebastian.page.reload()
    await expect(sebastian.messages().filter(has_text="still here after a reload")).to_be_visible()


async def test_offline_message_is_sent_once_after_reconnect(trio, server, api_demo):
    alice, sebastian, _ = trio
    await alice.context.set_offline(True)
    await expect(alice.frame().locator(".status")).to_have_text("Reconnecting…")
    await send(alice, "written while offline")
    await expect(alice.frame().locator(".message--pending", has_text="written while offline")).to_be_visible()
    await alice.context.set_offline(False)
    await expect(sebastian.messages().filter(has_text="written while offline")).to_have_count(1, timeout=15_000)
    await expect(alice.frame().locator(".message--pending")).to_have_count(0)
    await expect(alice.messages().filter(has_text="written while offline")).to_have_count(1)
    stored = api_demo.get("conversations/new_group_chat/messages").json()["data"]
    assert [m["text"] for m in stored].count("written while offline") == 1


async def test_missed_messages_arrive_after_reconnect(trio):
    alice, sebastian, _ = trio
    await sebastian.context.set_offline(True)
    await expect(sebastian.frame().locator(".status")).to_have_text("Reconnecting…")
    await send(alice, "sent while Sebastian was away")
    await sebastian.context.set_offline(False)
    await expect(sebastian.messages().filter(has_text="sent while Sebastian was away")).to_have_count(1, timeout=15_000)
    await expect(sebastian.frame().locator(".status")).to_be_hidden()


async def test_html_in_messages_is_shown_as_text(trio):
    alice, sebastian, _ = trio
    attack = '<img src=x onerror="window.parent.pwned=1;window.pwned=1">'
    await send(alice, attack)
    await expect(sebastian.messages().filter(has_text=attack)).to_be_visible()
    assert await sebastian.frame().locator(".messages img[src=x]").count() == 0
    assert await sebastian.page.evaluate("window.pwned") is None


async def test_links_become_safe_anchors(trio):
    alice, sebastian, _ = trio
    await send(alice, "see https://example.com/docs?a=1 and javascript:alert(1)")
    link = sebastian.frame().get_by_role("link", name="https://example.com/docs?a=1")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")
    assert await sebastian.frame().locator("a[href^=javascript]").count() == 0


async def test_the_loader_snippet_path_works(server, demo_app, host, browser):
    url = host.page("/snippet.html", pages.group_chat(server.base_url, STEVE, how="snippet"))
    steve = await visit(browser, url)
    await mounted(steve)
    await expect(steve.frame().locator(".header__title")).to_have_text("Beautiful Steel Preserve")
    await send(steve, "via the snippet")
    await expect(steve.frame().locator(".message--mine", has_text="via the snippet")).to_be_visible()


async def test_keyboard_only_and_narrow_screen(server, demo_app, host, browser):
    url = host.page("/narrow.html", pages.group_chat(server.base_url, ALICE))
    alice = await visit(browser, url, viewport={"width": 320, "height": 560})
    await mounted(alice)
    await alice.page.keyboard.press("Tab")  # into the frame
    for _ in range(6):
        if await alice.frame().locator(":focus").get_attribute("aria-label") == "Message":
            break
        await alice.page.keyboard.press("Tab")
    await alice.page.keyboard.type("line one")
    await alice.page.keyboard.press("Shift+Enter")
    await alice.page.keyboard.type("line two")
    await alice.page.keyboard.press("Enter")
    mine = alice.frame().locator(".message--mine .message__text")
    await expect(mine).to_have_text("line one\nline two")
    composer = alice.frame().locator(".composer__send")
    box = await composer.bounding_box()
    assert box and box["x"] + box["width"] <= 320
    ARTIFACTS.mkdir(exist_ok=True)
    await alice.page.screenshot(path=str(ARTIFACTS / "chatbox-320px.png"))


async def test_older_messages_load_on_scroll_up(server, demo_app, host, browser, api_demo):
    for uid, user in pages.USERS.items():
        api_demo.put(f"users/{uid}", json={"name": user["name"]})
    api_demo.put("conversations/new_group_chat", json={"participants": list(pages.USERS)})
    for start in range(0, 45, 9):
        batch = [{"text": f"old message {i}", "sender": ALICE, "type": "UserMessage"} for i in range(start, start + 9)]
        api_demo.post("conversations/new_group_chat/messages", json=batch)
    url = host.page("/history.html", pages.group_chat(server.base_url, STEVE))
    steve = await visit(browser, url)
    await mounted(steve)
    await expect(steve.messages().filter(has_text="old message 44")).to_be_visible()
    assert await steve.messages().filter(has_text="old message 0").count() == 0
    await steve.frame().locator(".messages").evaluate("box => box.scrollTo(0, 0)")
    await expect(steve.messages().filter(has_text="old message 0")).to_have_count(1)


async def test_welcome_and_day_separator(server, demo_app, host, browser, api_demo):
    url = host.page("/welcome.html", pages.group_chat(server.base_url, ALICE, setup="conversation.setAttributes({welcomeMessages: ['Welcome to the group!']});"))
    alice = await visit(browser, url)
    await mounted(alice)
    await expect(alice.frame().get_by_text("Welcome to the group!")).to_be_visible()
    await send(alice, "first")
    await expect(alice.frame().get_by_role("separator")).to_have_text("Today")


async def test_on_send_message_can_override_and_cancel(server, demo_app, host, browser):
    extra = """
  chatbox.onSendMessage(function (event) {
    if (event.message.text === "block me") return event.preventDefault();
    event.override({ text: event.message.text.toUpperCase() });
  });"""
    url = host.page("/intercept.html", pages.group_chat(server.base_url, ALICE, extra=extra))
    alice = await visit(browser, url)
    await mounted(alice)
    await send(alice, "block me")
    await send(alice, "shout")
    await expect(alice.messages().filter(has_text="SHOUT")).to_be_visible()
    assert await alice.messages().filter(has_text="block me").count() == 0


async def test_one_on_one_id_matches_talkjs(server, demo_app, host, browser):
    import hashlib
    import json

    url = host.page("/ids.html", pages.page(server.base_url, "Talk.ready.then(() => { window.loaded = true; });"))
    visitor = await visit(browser, url)
    await visitor.page.wait_for_function("window.loaded")
    result = await visitor.page.evaluate("Talk.oneOnOneId(new Talk.User('654321'), '123456')")
    expected = hashlib.sha1(json.dumps(["123456", "654321"], separators=(",", ":")).encode()).hexdigest()[:20]
    assert result == expected
    assert await visitor.page.evaluate("Talk.oneOnOneId('123456', '654321')") == expected


async def test_misuse_gets_coded_errors_in_the_console(server, demo_app, host, browser):
    url = host.page("/misuse.html", pages.page(server.base_url, "Talk.ready.then(() => { window.loaded = true; });"))
    visitor = await visit(browser, url)
    await visitor.page.wait_for_function("window.loaded")
    codes = await visitor.page.evaluate("""async () => {
      const codes = {};
      try { new Talk.User(undefined); } catch (e) { codes.user = e.code; }
      try { new Talk.Session({ me: new Talk.User('1') }); } catch (e) { codes.session = e.code; }
      const unknown = new Talk.Session({ appId: 'no-such-app', me: new Talk.User({ id: '1', name: 'A' }) });
      await unknown.createChatbox().mount(document.getElementById('talkjs-container')).catch(e => { codes.app = e.code; });
      const session = new Talk.Session({ appId: 'demo', me: new Talk.User({ id: '1', name: 'A' }) });
      await session.createChatbox().mount(document.getElementById('nope')).catch(e => { codes.mount = e.code; });
      try { session.getOrCreateConversation('c').setParticipant({ id: '2' }); } catch (e) { codes.participant = e.code; }
      await session.createChatbox().select(12.5 === 0 ? null : {}).catch(e => { codes.select = e.code; });
      return codes;
    }""")
    assert codes == {"user": "INVALID_ARGUMENT", "session": "INVALID_ARGUMENT", "app": "UNKNOWN_APP",
                     "mount": "MOUNT_TARGET_MISSING", "participant": "INVALID_ARGUMENT", "select": "INVALID_ARGUMENT"}
    errors = [line for line in visitor.console if line.startswith("error: [Parley]")]
    for code in ("UNKNOWN_APP", "MOUNT_TARGET_MISSING", "INVALID_ARGUMENT"):
        assert any(code in line for line in errors), (code, visitor.console)


async def test_refused_conversation_shows_a_readable_message(server, demo_app, host, browser, api_demo):
    api_demo.put("users/999", json={"name": "Outsider"})
    api_demo.put("users/1", json={"name": "Owner"})
    api_demo.put("conversations/private", json={"participants": ["1"]})
    script = """Talk.ready.then(function () {
      const session = new Talk.Session({ appId: "demo", me: new Talk.User("999") });
      const chatbox = session.createChatbox();
      chatbox.select("private");
      window.mounted = chatbox.mount(document.getElementById("talkjs-container")).then(() => "ok", (e) => e.code);
    });"""
    visitor = await visit(browser, host.page("/refused.html", pages.page(server.base_url, script)))
    assert await mounted(visitor) == "NOT_A_PARTICIPANT"
    await expect(visitor.frame().get_by_role("alert")).to_contain_text("not a participant")
    assert any("NOT_A_PARTICIPANT" in line for line in visitor.console)


async def test_demo_page_runs_the_group_chat(server, demo_app, browser):
    alice = await visit(browser, f"{server.base_url}/demo")
    await expect(alice.frame().locator(".header__title")).to_have_text("Beautiful Steel Preserve")
    await expect(alice.page.get_by_role("link", name="Sebastian")).to_have_attribute("href", "/demo?user=654321")
    await expect(alice.page.locator("#snippet")).to_contain_text("/talk.js")
    sebastian = await visit(browser, f"{server.base_url}/demo?user=654321")
    await send(alice, "hi from the demo")
    await expect(sebastian.messages().filter(has_text="hi from the demo")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await asyncio.sleep(0.2)
    await alice.page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)


async def test_demo_page_has_the_inbox_and_the_popup(server, demo_app, browser):
    alice = await visit(browser, f"{server.base_url}/demo")
    inbox = alice.page.frame_locator("#inbox-container iframe")
    await expect(inbox.locator(".inbox__chat .header__title")).to_have_text("Beautiful Steel Preserve")
    await expect(alice.page.locator("#unread-count")).to_have_text("no unread messages")
    await expect(alice.page.locator("[data-parley-popup]").get_by_role("button", name="Open chat")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await alice.page.screenshot(path=str(ARTIFACTS / "demo-inbox-popup.png"), full_page=True)
