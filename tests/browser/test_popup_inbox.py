"""The Popup and the Inbox in Chromium, with unread counts and read receipts; the Inbox takes no guests."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import mounted, visit

ALICE, SEBASTIAN, STEVE = "123456", "654321", "456789"


def session_page(parley_url: str, me_id: str, body: str) -> str:
    """A page with a session for `me_id` (window.session) and the group conversation builder."""
    me = pages.USERS[me_id]
    others = [u for uid, u in pages.USERS.items() if uid != me_id]
    script = f"""
Talk.ready.then(function () {{
  const me = new Talk.User({json.dumps(me)});
  const session = new Talk.Session({{ appId: "demo", me: me }});
  window.session = session;
  window.unreadEvents = [];
  window.messages = [];
  const conversation = session.getOrCreateConversation("new_group_chat");
  conversation.setParticipant(me);
  {"".join(f"conversation.setParticipant(new Talk.User({json.dumps(o)}));" for o in others)}
  conversation.setAttributes({{ subject: "Beautiful Steel Preserve" }});
  {body}
}});"""
    return pages.page(parley_url, script)


@pytest.fixture
def group_with_message(api_demo: httpx.Client) -> str:
    for uid, user in pages.USERS.items():
        api_demo.put(f"users/{uid}", json={"name": user["name"]})
    api_demo.put("conversations/new_group_chat", json={"participants": list(pages.USERS), "subject": "Beautiful Steel Preserve"})
    api_demo.post("conversations/new_group_chat/messages", json=[{"text": "first!", "sender": ALICE, "type": "UserMessage"}])
    return "new_group_chat"


async def open_alice(browser, host, server):
    alice = await visit(browser, host.page("/alice.html", pages.group_chat(server.base_url, ALICE)))
    await mounted(alice)
    return alice


async def say(visitor, text):
    box = visitor.frame().get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


INBOX = """
  const inbox = session.createInbox();
  window.inbox = inbox;
  window.mounted = inbox.mount(document.getElementById("talkjs-container")).then(() => "ok", (e) => e.code);
"""


async def test_inbox_unread_count_rises_and_clears_when_opened(server, demo_app, host, browser, group_with_message):
    sebastian = await visit(browser, host.page("/inbox.html", session_page(server.base_url, SEBASTIAN, INBOX)))
    assert await mounted(sebastian) == "ok"
    item = sebastian.frame().locator(".feed__item", has_text="Beautiful Steel Preserve")
    await expect(item.locator(".feed__unread")).to_have_text("1")
    await expect(item.locator(".feed__preview")).to_have_text("first!")
    alice = await open_alice(browser, host, server)
    await say(alice, "are you there?")
    await expect(item.locator(".feed__unread")).to_have_text("2")
    await expect(item.locator(".feed__preview")).to_have_text("are you there?")
    await item.click()
    await expect(sebastian.messages().filter(has_text="are you there?")).to_be_visible()
    await expect(item.locator(".feed__unread")).to_have_count(0)
    # Alice's own message now shows as read
    await expect(alice.frame().locator(".message--mine", has_text="are you there?").locator(".message__status")).to_have_text("Read")


async def test_a_conversation_without_messages_is_not_in_the_feed(server, demo_app, host, browser, api_demo):
    api_demo.put(f"users/{SEBASTIAN}", json={"name": "Sebastian"})
    api_demo.put("conversations/silent", json={"participants": [SEBASTIAN], "subject": "Silent"})
    sebastian = await visit(browser, host.page("/inbox.html", session_page(server.base_url, SEBASTIAN, INBOX)))
    assert await mounted(sebastian) == "ok"
    await expect(sebastian.frame().locator(".feed__empty")).to_be_visible()
    await expect(sebastian.frame().locator(".feed__item", has_text="Silent")).to_have_count(0)


POPUP = """
  const popup = session.createPopup(conversation, { keepOpen: true });
  window.popup = popup;
  window.opened = 0; window.closeCount = 0;
  popup.onOpen(() => window.opened++);
  popup.onClose(() => window.closeCount++);
  window.mounted = popup.mount({ show: false }).then(() => "ok", (e) => e.code);
"""


async def test_popup_badge_rises_and_clears_when_opened(server, demo_app, host, browser, group_with_message):
    sebastian = await visit(browser, host.page("/popup.html", session_page(server.base_url, SEBASTIAN, POPUP)))
    assert await mounted(sebastian) == "ok"
    launcher = sebastian.page.get_by_role("button", name="Open chat, 1 unread")
    await expect(launcher).to_be_visible()
    alice = await open_alice(browser, host, server)
    await say(alice, "knock knock")
    await expect(sebastian.page.get_by_role("button", name="Open chat, 2 unread")).to_be_visible()
    await sebastian.page.get_by_role("button", name="Open chat, 2 unread").click()
    await expect(sebastian.page.get_by_role("dialog", name="Chat")).to_be_visible()
    await expect(sebastian.page.get_by_role("button", name="Close chat")).to_be_visible()
    assert await sebastian.page.evaluate("window.opened") == 1
    # kept open across a reload
    await sebastian.page.reload()
    assert await mounted(sebastian) == "ok"
    await expect(sebastian.page.get_by_role("dialog", name="Chat")).to_be_visible()
    await sebastian.page.evaluate("window.popup.hide()")
    await expect(sebastian.page.get_by_role("dialog", name="Chat")).to_be_hidden()
    assert await sebastian.page.evaluate("window.closeCount") == 0  # API calls are not user actions


async def test_popup_close_button_and_launcher_modes(server, demo_app, host, browser, group_with_message):
    body = """
  const popup = session.createPopup(conversation, { launcher: "close-only" });
  window.popup = popup;
  window.closeCount = 0;
  popup.onClose(() => window.closeCount++);
  popup.show();  // no-op before mount
  window.mounted = popup.mount({ show: true }).then(() => "ok", (e) => e.code);
"""
    visitor = await visit(browser, host.page("/modes.html", session_page(server.base_url, STEVE, body)), viewport={"width": 360, "height": 640})
    assert await mounted(visitor) == "ok"
    dialog = visitor.page.get_by_role("dialog", name="Chat")
    box = await dialog.bounding_box()
    assert box and box["width"] >= 359 and box["height"] >= 639  # full screen when narrow
    await visitor.frame("[data-parley-popup]").get_by_role("button", name="Close chat").click()
    await expect(dialog).to_be_hidden()
    assert await visitor.page.evaluate("window.closeCount") == 1
    await expect(visitor.page.locator("[data-parley-popup]").get_by_role("button")).to_be_hidden()  # close-only


UNREADS = """
  session.unreads.onChange((unreads) => window.unreadEvents.push(unreads.map((u) => [u.conversation.id, u.unreadMessageCount])));
  session.onMessage((message) => window.messages.push([message.conversation.id, message.text, message.isByMe]));
  window.mounted = Promise.resolve("ok");
"""


async def test_unreads_on_change_and_on_message(server, demo_app, host, browser, group_with_message, api_demo):
    sebastian = await visit(browser, host.page("/unreads.html", session_page(server.base_url, SEBASTIAN, UNREADS)))
    await sebastian.page.wait_for_function("(window.unreadEvents || []).length >= 1")
    assert await sebastian.page.evaluate("window.unreadEvents[0]") == [["new_group_chat", 1]]
    api_demo.post("conversations/new_group_chat/messages", json=[{"text": "news", "sender": ALICE, "type": "UserMessage"}])
    await sebastian.page.wait_for_function("(window.messages || []).length >= 1")
    assert await sebastian.page.evaluate("window.messages") == [["new_group_chat", "news", False]]
    await sebastian.page.wait_for_function("JSON.stringify(window.unreadEvents.at(-1)) === JSON.stringify([['new_group_chat', 2]])")


async def test_guest_conversations_never_reach_the_inbox_or_on_message(server, demo_app, host, browser, group_with_message, api_demo):
    api_demo.put("conversations/lobby", json={"participants": [ALICE], "subject": "Lobby"})
    body = INBOX.replace('window.mounted = ', 'window.inboxMounted = ') + UNREADS.replace('window.mounted = Promise.resolve("ok");', "") + """
  const lobby = session.getOrCreateConversation("lobby");
  const chatbox = session.createChatbox();
  chatbox.select(lobby, { asGuest: true });
  window.mounted = Promise.all([window.inboxMounted, chatbox.mount(document.getElementById("guest-box"))]).then(() => "ok", (e) => e.code);
"""
    html = session_page(server.base_url, SEBASTIAN, body).replace("<body>", '<body><div id="guest-box" style="height:300px"></div>')
    sebastian = await visit(browser, host.page("/mixed.html", html))
    assert await mounted(sebastian) == "ok"
    api_demo.post("conversations/lobby/messages", json=[{"text": "lobby news", "sender": ALICE, "type": "UserMessage"}])
    guest_box = sebastian.page.frame_locator("#guest-box iframe")
    await expect(guest_box.locator(".message__text", has_text="lobby news")).to_be_visible()
    api_demo.post("conversations/new_group_chat/messages", json=[{"text": "group news", "sender": ALICE, "type": "UserMessage"}])
    await sebastian.page.wait_for_function("(window.messages || []).length >= 1")
    assert await sebastian.page.evaluate("window.messages") == [["new_group_chat", "group news", False]]
    inbox = sebastian.page.frame_locator("#talkjs-container iframe")
    await expect(inbox.locator(".feed__item")).to_have_count(1)
    await expect(inbox.locator(".feed__item", has_text="Lobby")).to_have_count(0)
    assert all(conv != "lobby" for event in await sebastian.page.evaluate("window.unreadEvents") for conv, _ in event)


async def test_inbox_refuses_guest_mode(server, demo_app, host, browser, group_with_message):
    body = INBOX + """
  window.guestAttempt = window.mounted.then(() => inbox.select(conversation, { asGuest: true })).then(() => "ok", (e) => [e.code, e.message]);
"""
    sebastian = await visit(browser, host.page("/inbox-guest.html", session_page(server.base_url, SEBASTIAN, body)))
    assert await mounted(sebastian) == "ok"
    await sebastian.page.wait_for_function("window.guestAttempt !== undefined")
    code, message = await sebastian.page.evaluate("window.guestAttempt")
    assert code == "GUEST_NOT_ALLOWED_IN_INBOX" and "Chatbox" in message and "Popup" in message
    assert any("GUEST_NOT_ALLOWED_IN_INBOX" in line for line in sebastian.console if line.startswith("error"))
    await expect(sebastian.frame().get_by_role("alert")).to_contain_text("guest mode")
    response = httpx.get(f"{server.base_url}/embed/demo/inbox", params={"origin": host.base_url, "asGuest": "true"})
    assert response.status_code == 403 and "GUEST_NOT_ALLOWED_IN_INBOX" in response.text


async def test_feed_filter_and_cancelable_selection(server, demo_app, host, browser, api_demo):
    api_demo.put(f"users/{SEBASTIAN}", json={"name": "Sebastian"})
    for cid, category in (("sales-1", "sales"), ("support-1", "support")):
        api_demo.put(f"conversations/{cid}", json={"participants": [SEBASTIAN], "subject": cid, "custom": {"category": category}})
        api_demo.post(f"conversations/{cid}/messages", json=[{"text": f"in {cid}", "type": "SystemMessage"}])
    body = """
  const inbox = session.createInbox({ feedFilter: { custom: { category: ["==", "sales"] } } });
  window.inbox = inbox;
  window.selected = [];
  inbox.onSelectConversation((event) => { if (event.conversation.id === "support-1") event.preventDefault(); });
  inbox.onConversationSelected((event) => window.selected.push(event.conversation.id));
  window.mounted = inbox.mount(document.getElementById("talkjs-container")).then(() => "ok", (e) => e.code);
"""
    sebastian = await visit(browser, host.page("/filter.html", session_page(server.base_url, SEBASTIAN, body)))
    assert await mounted(sebastian) == "ok"
    items = sebastian.frame().locator(".feed__item")
    await expect(items).to_have_count(1)
    await expect(items).to_contain_text("sales-1")
    await sebastian.page.evaluate("""inbox.setFeedFilter(["any", [{ custom: { category: ["==", "support"] } }, { hasUnreadMessages: true }]])""")
    await expect(items).to_have_count(2)
    error = await sebastian.page.evaluate("(() => { try { inbox.setFeedFilter({ colour: ['==', 'red'] }); } catch (e) { return e.code; } })()")
    assert error == "INVALID_ARGUMENT"
    await items.filter(has_text="support-1").click()
    await items.filter(has_text="sales-1").click()
    await sebastian.page.wait_for_function("(window.selected || []).length >= 1")
    assert await sebastian.page.evaluate("window.selected") == ["sales-1"]
    await expect(sebastian.frame().locator(".inbox__chat .header__title")).to_have_text("sales-1")
