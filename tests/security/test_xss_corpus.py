"""The XSS corpus: every payload of xss_payloads.py in every user-controlled field (user names, photos,
roles, availability, welcome messages, custom data; conversation ids, subjects, photos, welcome
messages; message texts), rendered in the Chatbox, the Popup, the Inbox and the dashboard in
Chromium. Fails on any dialog, any element the payloads mark, any `on*` attribute, any javascript:
URL, any inline script or nested frame the pages did not put there themselves."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import pytest
from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import visit
from tests.figures import record
from tests.security.xss_payloads import PAYLOADS, PHOTO_PAYLOADS
from tests.test_dashboard import PASSWORD

USERS = 12
RENDER_SECONDS = 60
FIELDS = ["user name", "user photoUrl", "user role", "user availabilityText", "user welcomeMessage", "user custom",
          "conversation id", "conversation subject", "conversation photoUrl", "conversation welcomeMessages",
          "conversation custom", "message text", "message custom", "system message text"]
VIEWS = ["Chatbox", "Popup", "Inbox", "dashboard users", "dashboard conversations", "dashboard conversation", "dashboard live"]
ODD_ID = '"><img src=x onerror=alert(1) class=xss-probe>'

FIND_INJECTIONS = """() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      if (/^on/i.test(attribute.name)) found.push(`${element.tagName} ${attribute.name}`);
      if (/^(href|src|action|formaction|data|srcdoc|xlink:href)$/i.test(attribute.name)
          && /^\\s*(javascript|vbscript|data:text)/i.test(attribute.value)) found.push(`${element.tagName} ${attribute.name}=${attribute.value}`);
    }
    if (element.classList.contains("xss-probe")) found.push(`probe ${element.tagName}`);
  }
  for (const script of document.querySelectorAll("script:not([src])"))
    if (script.type !== "application/json") found.push("inline script");
  for (const nested of document.querySelectorAll("iframe, object, embed, base, meta[http-equiv]")) found.push(nested.tagName);
  return found;
}"""


def payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


@pytest.fixture
def corpus(api_demo):
    api_demo.put("users/viewer", json={"name": "Viewer", "email": "viewer@example.com"}).raise_for_status()
    for i in range(USERS):
        user = {"name": payload(i), "photoUrl": PHOTO_PAYLOADS[i % len(PHOTO_PAYLOADS)], "role": payload(i + 12)[:255],
                "availabilityText": payload(i + 24), "welcomeMessage": payload(i + 36), "custom": {"k": payload(i + 5)}}
        api_demo.put(f"users/u{i}", json=user).raise_for_status()
    members = ["viewer", *(f"u{i}" for i in range(USERS))]
    api_demo.put("conversations/xss", json={
        "participants": members, "subject": payload(3), "photoUrl": PHOTO_PAYLOADS[0],
        "welcomeMessages": [payload(i) for i in range(5)], "custom": {"k": payload(7)}}).raise_for_status()
    for start in range(0, len(PAYLOADS), 10):
        batch = [{"text": payload(i), "sender": f"u{i % USERS}", "type": "UserMessage", "custom": {"k": payload(i + 1)}}
                 for i in range(start, min(start + 10, len(PAYLOADS)))]
        api_demo.post("conversations/xss/messages", json=batch).raise_for_status()
    api_demo.post("conversations/xss/messages", json=[{"text": payload(40), "type": "SystemMessage"}]).raise_for_status()
    api_demo.put(f"conversations/{quote(ODD_ID, safe='')}", json={"participants": ["viewer", "u1"]}).raise_for_status()
    api_demo.post(f"conversations/{quote(ODD_ID, safe='')}/messages",
                  json=[{"text": payload(2), "sender": "u1", "type": "UserMessage"}]).raise_for_status()
    record("xss", {"payloads": len(PAYLOADS) + len(PHOTO_PAYLOADS), "fields": FIELDS, "views": VIEWS})
    return len(PAYLOADS)


def ui_page(parley_url: str, ui: str) -> str:
    make = {
        "chatbox": "const ui = session.createChatbox(); ui.select(conversation); window.mounted = ui.mount(document.getElementById('talkjs-container'));",
        "popup": "const ui = session.createPopup(); ui.select(conversation); window.mounted = ui.mount({show: true});",
        "inbox": "const ui = session.createInbox({selected: conversation}); window.mounted = ui.mount(document.getElementById('talkjs-container'));",
    }[ui]
    script = f"""
Talk.ready.then(function () {{
  const session = new Talk.Session({{ appId: "demo", me: new Talk.User("viewer") }});
  const conversation = session.getOrCreateConversation({json.dumps("xss")});
  {make}
}});"""
    return pages.page(parley_url, script)


class DialogGuard:
    """Fails the test at the first dialog a payload opens (some would open them forever)."""

    def __init__(self, page) -> None:
        self.page = page
        self.seen: list[str] = []
        self.opened = asyncio.Event()
        page.on("dialog", self._on_dialog)

    async def _on_dialog(self, dialog) -> None:
        self.seen.append(dialog.message)
        self.opened.set()
        await dialog.dismiss()

    async def run(self, steps) -> None:
        task = asyncio.ensure_future(steps)
        opened = asyncio.ensure_future(self.opened.wait())
        done, _ = await asyncio.wait({task, opened}, timeout=RENDER_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            task.cancel()
            opened.cancel()
            await asyncio.wait_for(self.page.context.close(), 10)
            pytest.fail(f"the page did not finish rendering in {RENDER_SECONDS} s: a payload may have taken it over")
        if opened in done:
            task.cancel()
            # a payload that opens dialogs again as each is dismissed would keep the browser busy for ever
            await asyncio.wait_for(self.page.context.close(), 10)
            pytest.fail(f"a payload ran: a dialog said {self.seen[0]!r}")
        opened.cancel()
        task.result()


async def injections(page, include_main: bool) -> list[str]:
    found = []
    for frame in page.frames:
        if frame == page.main_frame and not include_main:
            continue
        found += [f"{frame.url[:80]}: {item}" for item in await frame.evaluate(FIND_INJECTIONS)]
    return found


@pytest.mark.parametrize("ui", ["chatbox", "popup", "inbox"])
async def test_payloads_render_as_text_in_every_ui(server, demo_app, host, browser, corpus, ui):
    visitor = await visit(browser, "about:blank")
    guard = DialogGuard(visitor.page)
    await guard.run(_render_ui(visitor, host.page(f"/{ui}.html", ui_page(server.base_url, ui)), ui, corpus))
    assert await injections(visitor.page, include_main=False) == []
    await visitor.context.close()


async def _render_ui(visitor, url: str, ui: str, corpus: int) -> None:
    await visitor.page.goto(url)
    container = "[data-parley-popup]" if ui == "popup" else "#talkjs-container"
    frame = visitor.page.frame_locator(f"{container} iframe")
    await expect(frame.locator(".message__text").first).to_be_visible(timeout=20_000)
    for _ in range(10):  # scroll up until the whole history (and the welcome messages above it) is shown
        if await frame.locator(".message__text").count() >= corpus + 5 + 1:
            break
        await frame.locator(".messages").evaluate("log => log.scrollTop = 0")
        await visitor.page.wait_for_timeout(300)
    await expect(frame.locator(".message__text")).to_have_count(corpus + 5 + 1)  # + welcome messages + the system one
    await expect(frame.locator(".message__text").filter(has_text=PAYLOADS[0]).first).to_be_visible()
    if ui == "chatbox":
        await frame.locator(".header__members").click()
        await expect(frame.get_by_role("region", name="Members")).to_be_visible()
    if ui == "inbox":
        await expect(frame.locator(".feed__item")).to_have_count(2)
    await visitor.page.wait_for_timeout(500)  # images that fail to load have had their error event


async def test_payloads_render_as_text_in_the_dashboard(server, demo_app, browser, corpus):
    from server.chat import admin

    await admin.set_password(server.app.chat, PASSWORD)
    owner = await visit(browser, f"{server.base_url}/dashboard/login")
    guard = DialogGuard(owner.page)
    await guard.run(_browse_dashboard(owner, f"{server.base_url}/dashboard/apps/demo"))
    await owner.context.close()


async def _browse_dashboard(owner, base: str) -> None:
    await owner.page.get_by_label("Admin password").fill(PASSWORD)
    await owner.page.get_by_role("button", name="Sign in").click()
    for path in ("/users", "/conversations", "/conversation?id=xss", f"/conversation?id={quote(ODD_ID, safe='')}", "?tab=live"):
        await owner.page.goto(base + path)
        await expect(owner.page.locator("main")).to_be_visible()
        assert await injections(owner.page, include_main=True) == [], path
    await owner.page.goto(base + "/users")
    await expect(owner.page.get_by_text(PAYLOADS[1], exact=True).first).to_be_visible()  # shown, as text
