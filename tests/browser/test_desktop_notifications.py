"""Desktop notifications in Chromium: who is notified, the preference and the permission, clicks.

Chromium shows nothing in headless mode, so an init script wraps `window.Notification` (the real constructor
still runs) and records each one in `window.__shown`. Playwright emulates focus for every page, so the tests
that need an unfocused page turn that emulation off for it and bring another tab to the front: the page then
really loses focus (`blur`, `document.hasFocus()` false). Headless Chromium keeps every tab "visible".
"""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser import pages
from tests.browser.conftest import Visitor, mounted

ALICE, SEBASTIAN = "123456", "654321"
GROUP, SIDE, LOBBY = "new_group_chat", "side", "lobby"
SUBJECT = "Beautiful Steel Preserve"
ALICE_PHOTO = "https://example.com/alice.png"
BLOCKED = "Desktop notifications are blocked for this site."

RECORD_NOTIFICATIONS = """
(() => {
  window.__shown = [];
  window.__notifications = [];
  window.__closed = [];
  window.__focusCalls = 0;
  const focus = window.focus;
  window.focus = function () { window.__focusCalls++; return focus.call(window); };
  const Real = window.Notification;
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__shown.push({ title, body: options.body, tag: options.tag, icon: options.icon || null });
      window.__notifications.push(this);
    }
    close() {
      window.__closed.push(this.tag);
      return super.close();
    }
  }
  window.Notification = Recorded;
})();
"""


@pytest.fixture
def chats(api_demo: httpx.Client) -> None:
    """The group (with a subject), a one-on-one of Alice and Sebastian, and Alice's lobby for guests."""
    for uid, user in pages.USERS.items():
        api_demo.put(f"users/{uid}", json={"name": user["name"], **({"photoUrl": ALICE_PHOTO} if uid == ALICE else {})}).raise_for_status()
    api_demo.put(f"conversations/{GROUP}", json={"participants": list(pages.USERS), "subject": SUBJECT}).raise_for_status()
    api_demo.put(f"conversations/{SIDE}", json={"participants": [ALICE, SEBASTIAN]}).raise_for_status()
    api_demo.put(f"conversations/{LOBBY}", json={"participants": [ALICE], "subject": "Lobby"}).raise_for_status()


def alice_says(api: httpx.Client, conversation: str, text: str) -> None:
    api.post(f"conversations/{conversation}/messages", json=[{"text": text, "sender": ALICE, "type": "UserMessage"}]).raise_for_status()


def sebastian_page(parley_url: str, body: str) -> str:
    """Sebastian's session (window.session), recording clicks and permission events; `body` runs after."""
    script = f"""
Talk.ready.then(function () {{
  const session = new Talk.Session({{ appId: "demo", me: new Talk.User({json.dumps(SEBASTIAN)}) }});
  window.session = session;
  window.clicks = [];
  window.permissionEvents = [];
  session.onDesktopNotificationClicked((e) => window.clicks.push([e.conversation.id, e.message.text, e.message.sender.name]));
  session.onBrowserPermissionNeeded((e) => window.permissionEvents.push(["needed", e.type]));
  session.onBrowserPermissionDenied((e) => window.permissionEvents.push(["denied", e.type]));
  window.settled = (promise) => promise.then(() => "ok", (e) => e.code);
  {body}
}});"""
    return pages.page(parley_url, script)


# Enable notifications, wait until the session's connection is up (its first unreads), then mount `ui`.
def enabled_with(ui: str = "") -> str:
    return """
  window.enabled = window.settled(session.setDesktopNotificationEnabled(true));
  const connected = new Promise((resolve) => session.unreads.onChange(() => resolve()));
  window.mounted = Promise.all([window.enabled, connected]).then(async ([enabled]) => {
    if (enabled !== "ok") return enabled;
    %s
    return "ok";
  }, (e) => e.code);
""" % ui


def chatbox_showing(conversation: str, options: str = "{}") -> str:
    return f"""const chatbox = session.createChatbox();
    chatbox.select(session.getOrCreateConversation({json.dumps(conversation)}), {options});
    await chatbox.mount(document.getElementById("talkjs-container"));"""


async def notified_visitor(browser: Browser, url: str, grant: bool | None = True, emulate_focus: bool = True) -> Visitor:
    """Sebastian's browser: notifications granted for the host's origin (`grant`), denied (False) or not yet
    asked (None); `emulate_focus=False` lets the page really lose focus to another tab."""
    context = await browser.new_context()
    origin = url.split("/", 3)[:3]
    if grant:
        await context.grant_permissions(["notifications"], origin="/".join(origin))
    elif grant is False:
        await context.grant_permissions([])
    await context.add_init_script(RECORD_NOTIFICATIONS)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    await page.goto(url)
    if not emulate_focus:  # after navigating: a new document has the emulation again
        cdp = await context.new_cdp_session(page)
        await cdp.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    return Visitor(context, page, console)


async def lose_focus(visitor: Visitor) -> None:
    """Another tab comes to the front: the page is blurred for real."""
    other = await visitor.context.new_page()
    await other.bring_to_front()
    await visitor.page.wait_for_function("!document.hasFocus()")


def record_dialogs(visitor: Visitor) -> list[str]:
    """The messages of the page's alerts, each accepted."""
    dialogs: list[str] = []

    async def accept(dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    visitor.page.on("dialog", accept)
    return dialogs


async def shown(visitor: Visitor, count: int) -> list[dict]:
    await visitor.page.wait_for_function(f"window.__shown.length >= {count}")
    return await visitor.page.evaluate("window.__shown")


async def test_an_unfocused_page_is_notified_even_for_the_conversation_it_shows(server, demo_app, host, browser, chats, api_demo):
    url = host.page("/unfocused.html", sebastian_page(server.base_url, enabled_with(chatbox_showing(GROUP))))
    sebastian = await notified_visitor(browser, url, emulate_focus=False)
    assert await mounted(sebastian) == "ok"
    await lose_focus(sebastian)
    alice_says(api_demo, GROUP, "lunch at noon?")
    await expect(sebastian.messages().filter(has_text="lunch at noon?")).to_be_visible()
    assert await shown(sebastian, 1) == [
        {"title": f"Alice in {SUBJECT}", "body": "lunch at noon?", "tag": GROUP, "icon": ALICE_PHOTO}
    ]
    assert not [line for line in sebastian.console if "[Parley]" in line or line.startswith("pageerror")]


async def test_the_conversation_a_focused_chatbox_shows_gives_none(server, demo_app, host, browser, chats, api_demo):
    url = host.page("/focused.html", sebastian_page(server.base_url, enabled_with(chatbox_showing(GROUP))))
    sebastian = await notified_visitor(browser, url)
    assert await mounted(sebastian) == "ok"
    assert await sebastian.page.evaluate("[document.visibilityState, document.hasFocus()]") == ["visible", True]
    alice_says(api_demo, GROUP, "you are looking at this one")
    await expect(sebastian.messages().filter(has_text="you are looking at this one")).to_be_visible()
    long = "word " * 60
    alice_says(api_demo, SIDE, long)  # the marker: another conversation of Sebastian's
    [notification] = await shown(sebastian, 1)
    assert notification["tag"] == SIDE and notification["title"] == "Alice"  # no subject: the sender alone
    assert len(notification["body"]) == 120 and notification["body"].endswith("…")
    assert long.startswith(notification["body"][:-1])


async def test_a_guest_is_never_notified(server, demo_app, host, browser, chats, api_demo):
    ui = chatbox_showing(LOBBY, "{ asGuest: true }")
    url = host.page("/guest.html", sebastian_page(server.base_url, enabled_with(ui)))
    sebastian = await notified_visitor(browser, url, emulate_focus=False)
    assert await mounted(sebastian) == "ok"
    await lose_focus(sebastian)  # unfocused: any message the session heard of would notify
    alice_says(api_demo, LOBBY, "for the guests")
    await expect(sebastian.messages().filter(has_text="for the guests")).to_be_visible()
    alice_says(api_demo, GROUP, "for the members")  # the marker
    assert [n["body"] for n in await shown(sebastian, 1)] == ["for the members"]


async def test_the_preference_survives_a_reload_and_needs_the_permission(server, demo_app, host, browser, chats, api_demo):
    url = host.page("/preference.html", sebastian_page(server.base_url, "window.mounted = Promise.resolve('ok');"))
    sebastian = await notified_visitor(browser, url)
    assert await mounted(sebastian) == "ok"
    page = sebastian.page
    assert await page.evaluate("session.isDesktopNotificationEnabled()") is False
    assert await page.evaluate("settled(session.setDesktopNotificationEnabled(true))") == "ok"
    assert await page.evaluate("session.isDesktopNotificationEnabled()") is True
    await page.reload()
    assert await mounted(sebastian) == "ok"
    assert await page.evaluate("session.isDesktopNotificationEnabled()") is True
    alice_says(api_demo, SIDE, "after the reload")  # the session reconnects by itself after a reload
    assert [n["body"] for n in await shown(sebastian, 1)] == ["after the reload"]
    assert await page.evaluate("settled(session.setDesktopNotificationEnabled(false))") == "ok"
    assert await page.evaluate("session.isDesktopNotificationEnabled()") is False
    assert await page.evaluate("window.permissionEvents") == []  # granted already: nothing to ask

    denied = await notified_visitor(browser, url, grant=False)
    assert await mounted(denied) == "ok"
    dialogs = record_dialogs(denied)
    assert await denied.page.evaluate("Notification.permission") == "denied"
    result = await denied.page.evaluate("settled(session.setDesktopNotificationEnabled(true, { alertOnFailure: true }))")
    assert result == "NOTIFICATIONS_DENIED"
    assert len(dialogs) == 1 and dialogs[0].startswith(BLOCKED)
    assert await denied.page.evaluate("window.permissionEvents") == [["denied", "notifications"]]
    assert await denied.page.evaluate("session.isDesktopNotificationEnabled()") is False
    assert any("NOTIFICATIONS_DENIED" in line for line in denied.console if line.startswith("error"))
    result = await denied.page.evaluate("settled(session.setDesktopNotificationEnabled(true, { alertOnFailure: false }))")
    assert result == "NOTIFICATIONS_DENIED" and len(dialogs) == 1


async def test_asking_for_the_permission_and_prevent_default(server, demo_app, host, browser, chats):
    body = """
  window.prevent = true;
  session.onBrowserPermissionNeeded((e) => { if (window.prevent) e.preventDefault(); });
  window.mounted = Promise.resolve('ok');"""
    url = host.page("/ask.html", sebastian_page(server.base_url, body))
    sebastian = await notified_visitor(browser, url, grant=None)
    assert await mounted(sebastian) == "ok"
    dialogs = record_dialogs(sebastian)
    page = sebastian.page
    assert await page.evaluate("Notification.permission") == "default"
    # prevented: nothing asked, the preference is kept, but notifications stay off without the permission
    assert await page.evaluate("settled(session.setDesktopNotificationEnabled(true))") == "ok"
    assert await page.evaluate("[Notification.permission, window.permissionEvents]") == ["default", [["needed", "notifications"]]]
    assert await page.evaluate("session.isDesktopNotificationEnabled()") is False
    # asked: headless Chromium refuses at once
    result = await page.evaluate("window.prevent = false, settled(session.setDesktopNotificationEnabled(true))")
    assert result == "NOTIFICATIONS_DENIED"
    events = await page.evaluate("window.permissionEvents")
    assert events == [["needed", "notifications"], ["needed", "notifications"], ["denied", "notifications"]]
    await page.wait_for_function("Notification.permission === 'denied'")
    assert len(dialogs) == 1 and dialogs[0].startswith(BLOCKED)


async def test_clicking_a_notification_focuses_the_page_and_tells_the_handlers(server, demo_app, host, browser, chats, api_demo):
    url = host.page("/click.html", sebastian_page(server.base_url, enabled_with()))
    sebastian = await notified_visitor(browser, url, emulate_focus=False)
    assert await mounted(sebastian) == "ok"
    await lose_focus(sebastian)
    alice_says(api_demo, GROUP, "click me")
    assert [n["tag"] for n in await shown(sebastian, 1)] == [GROUP]
    await sebastian.page.evaluate("window.__notifications[0].dispatchEvent(new Event('click'))")
    assert await sebastian.page.evaluate("window.clicks") == [[GROUP, "click me", "Alice"]]
    assert await sebastian.page.evaluate("[window.__focusCalls, window.__closed]") == [1, [GROUP]]
