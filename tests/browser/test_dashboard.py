"""The dashboard in Chromium: switch browser sync and identity verification, see the widget follow."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import jwt
from playwright.async_api import expect

from server.chat import admin
from tests.browser import pages
from tests.browser.conftest import mounted, visit

PASSWORD = "correct horse battery"


def alice_page(parley_url: str, auth: str = "") -> str:
    """The documentation's group chat as Alice; `auth` adds to the Session options."""
    html = pages.group_chat(parley_url, "123456")
    html = html.replace('new Talk.Session({ appId: "demo", me: me })', f'new Talk.Session({{ appId: "demo", me: me{auth} }})')
    return html.replace(
        'window.mounted = chatbox.mount(document.getElementById("talkjs-container"));',
        'window.mounted = chatbox.mount(document.getElementById("talkjs-container")).then(() => "ok", (e) => e.code);'
        '\n  window.credentials = session.hasValidCredentials();',
    )


async def sign_in(browser, server):
    await server_set_password(server)
    owner = await visit(browser, f"{server.base_url}/dashboard")
    await owner.page.get_by_label("Admin password").fill(PASSWORD)
    await owner.page.get_by_role("button", name="Sign in").click()
    await expect(owner.page.get_by_role("heading", name="Apps")).to_be_visible()
    return owner


async def server_set_password(server):
    await admin.set_password(server.app.chat, PASSWORD)


async def open_settings(owner):
    await owner.page.get_by_role("link", name="Demo").click()
    await owner.page.get_by_role("link", name="Settings").click()


async def test_disallowing_conversation_sync_makes_the_widget_refuse_set_attributes(server, demo_app, host, browser):
    owner = await sign_in(browser, server)
    await open_settings(owner)
    await owner.page.get_by_label("Disallow conversation synchronization via the browser").check()
    await owner.page.get_by_role("button", name="Save settings").click()
    await expect(owner.page.get_by_role("status")).to_contain_text("Settings saved")
    alice = await visit(browser, host.page("/alice.html", alice_page(server.base_url)))
    assert await mounted(alice) == "CONVERSATION_SYNC_DISALLOWED"
    await expect(alice.frame().get_by_role("alert")).to_contain_text("disallows conversation synchronization")
    assert any("CONVERSATION_SYNC_DISALLOWED" in line for line in alice.console)
    # and back on: the same page works
    await owner.page.get_by_label("Disallow conversation synchronization via the browser").uncheck()
    await owner.page.get_by_role("button", name="Save settings").click()
    await alice.page.reload()
    assert await mounted(alice) == "ok"


async def test_identity_verification_refuses_unsigned_and_accepts_signed(server, demo_app, host, browser):
    owner = await sign_in(browser, server)
    await open_settings(owner)
    await owner.page.get_by_label("Enable identity verification").check()
    await owner.page.get_by_role("button", name="Save settings").click()
    await expect(owner.page.get_by_role("status")).to_contain_text("Settings saved")
    unsigned = await visit(browser, host.page("/unsigned.html", alice_page(server.base_url)))
    assert await mounted(unsigned) == "SIGNATURE_REQUIRED"
    assert await unsigned.page.evaluate("window.credentials") is False
    signature = hmac.new(demo_app["secretKey"].encode(), b"123456", hashlib.sha256).hexdigest()
    signed_page = alice_page(server.base_url, f', signature: "{signature}"')
    # verified, Alice's browser may create only Alice: the others come from the site's backend
    refused = await visit(browser, host.page("/signed-alone.html", signed_page))
    assert await mounted(refused) == "USER_SYNC_RESTRICTED"
    api = {"Authorization": f"Bearer {demo_app['secretKey']}"}
    for user_id in ("654321", "456789"):
        assert httpx.put(f"{server.base_url}/v1/demo/users/{user_id}", json=pages.USERS[user_id], headers=api).status_code == 200
    signed = await visit(browser, host.page("/signed.html", signed_page))
    assert await mounted(signed) == "ok"
    assert await signed.page.evaluate("window.credentials") is True
    claims = {"tokenType": "user", "iss": "demo", "sub": "123456", "exp": int(time.time()) + 300}
    fetched = jwt.encode(claims, demo_app["secretKey"], algorithm="HS256")
    fetcher = f', tokenFetcher: () => Promise.resolve({json.dumps(fetched)})'
    with_token = await visit(browser, host.page("/token.html", alice_page(server.base_url, fetcher)))
    assert await mounted(with_token) == "ok"


async def test_rotating_the_secret_in_the_dashboard_rejects_the_old_one(server, demo_app, browser):
    owner = await sign_in(browser, server)
    await owner.page.get_by_role("link", name="Demo").click()
    await owner.page.get_by_text("Reveal the secret key").click()
    old = await owner.page.locator("#secret-key").text_content()
    await owner.page.get_by_label("I understand the current secret key stops working at once").check()
    await owner.page.get_by_role("button", name="Rotate the secret key").click()
    await expect(owner.page.get_by_role("status")).to_contain_text("Secret key rotated")
    await owner.page.get_by_text("Reveal the secret key").click()
    new = await owner.page.locator("#secret-key").text_content()
    assert new != old
    rest = f"{server.base_url}/v1/demo/conversations"
    assert httpx.get(rest, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert httpx.get(rest, headers={"Authorization": f"Bearer {new}"}).status_code == 200


async def test_the_embed_tab_shows_the_snippet_to_copy(server, demo_app, browser):
    owner = await sign_in(browser, server)
    await owner.page.get_by_role("link", name="Demo").click()
    await owner.page.get_by_role("link", name="Embed").click()
    await expect(owner.page.locator("#snippet")).to_contain_text(f"{server.base_url}/talk.js")
    await expect(owner.page.get_by_role("button", name="Copy snippet")).to_be_visible()


async def test_a_page_outside_the_allowed_origins_gets_a_clear_error(server, demo_app, host, browser):
    server.update_app("demo", allowedOrigins="https://shop.example.com")
    alice = await visit(browser, host.page("/elsewhere.html", alice_page(server.base_url)))
    assert await mounted(alice) == "FRAME_REFUSED"
    assert any("FRAME_REFUSED" in line and host.base_url in line for line in alice.console)
