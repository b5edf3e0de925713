"""The dashboard over HTTP: sign-in, CSRF, rate limit, apps, settings, secret rotation, browsing."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from server.chat import admin, lookup
from server.proxies import parse_networks
from server.web import dashboard
from server.web.dashboard_auth import SignInGuard

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_guard(monkeypatch):
    monkeypatch.setattr(dashboard, "guard", dashboard.SignInGuard())


@pytest.fixture
def with_password(server):
    import asyncio

    asyncio.run(admin.set_password(server.app.chat, PASSWORD))


@pytest.fixture
def browser_client(server):
    with httpx.Client(base_url=server.base_url, follow_redirects=False, timeout=10) as client:
        yield client


def csrf_of(response: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert match, response.text[:500]
    return match[1]


def sign_in(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(client.get("/dashboard/login"))
    return client.post("/dashboard/login", data={"csrf": token, "password": password})


@pytest.fixture
def admin_client(browser_client, with_password):
    assert sign_in(browser_client).status_code == 303
    return browser_client


PAGES = ["/dashboard", "/dashboard/apps/x", "/dashboard/apps/x/users", "/dashboard/apps/x/conversations",
         "/dashboard/apps/x/conversation?id=c"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_without_signing_in(browser_client, path):
    response = browser_client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"


@pytest.mark.parametrize("path", ["/dashboard/apps", "/dashboard/apps/x/settings", "/dashboard/apps/x/rotate"])
def test_no_action_without_signing_in(browser_client, path):
    assert browser_client.post(path, data={"name": "x"}).status_code == 303


def test_login_page_says_when_no_password_is_set(browser_client):
    page = browser_client.get("/dashboard/login")
    assert page.status_code == 200 and "parley admin set-password" in page.text
    assert sign_in(browser_client, "anything at all").status_code == 401


def test_wrong_password_is_refused(browser_client, with_password):
    response = sign_in(browser_client, "not the password")
    assert response.status_code == 401 and "Wrong password" in response.text
    assert browser_client.get("/dashboard").status_code == 303


def test_cookie_is_http_only_and_same_site(browser_client, with_password):
    response = sign_in(browser_client)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie


def test_login_attempts_are_rate_limited(browser_client, with_password):
    for _ in range(5):
        assert sign_in(browser_client, "wrong password!").status_code == 401
    limited = sign_in(browser_client)  # even the right password, until the window passes
    assert limited.status_code == 429 and "too many failed sign-ins from this address" in limited.text


def test_failures_elsewhere_slow_the_account_down_but_never_lock_the_admin_out(tmp_path, settings):
    """Behind a trusted proxy, a stranger's address runs out of attempts; the admin's does not."""
    from tests.conftest import serve

    with serve(settings.replace(trusted_proxies=parse_networks("127.0.0.1"))) as live:
        asyncio.run(admin.set_password(live.app.chat, PASSWORD))
        with httpx.Client(base_url=live.base_url, headers={"X-Forwarded-For": "203.0.113.9"}) as stranger:
            for _ in range(5):
                assert sign_in(stranger, "guess guess guess").status_code == 401
            assert sign_in(stranger, "guess guess guess").status_code == 429
        assert dashboard.guard.delay() == 0.25  # after five failures, each attempt first waits, longer and longer
        dashboard.guard.consecutive_failures = 9
        assert dashboard.guard.delay() == 4.0 and SignInGuard.MAX_DELAY_SECONDS == 8.0
        dashboard.guard.consecutive_failures = 5
        with httpx.Client(base_url=live.base_url, headers={"X-Forwarded-For": "198.51.100.7"}) as owner:
            assert sign_in(owner).status_code == 303  # the real admin, from another address, gets in
        assert dashboard.guard.consecutive_failures == 0


def test_forms_without_the_csrf_token_are_refused(admin_client):
    assert admin_client.post("/dashboard/apps", data={"name": "Sneaky"}).status_code == 403
    assert admin_client.post("/dashboard/apps", data={"name": "Sneaky", "csrf": "forged"}).status_code == 403
    assert "Sneaky" not in admin_client.get("/dashboard").text
    token = csrf_of(admin_client.get("/dashboard"))
    assert admin_client.post("/dashboard/apps", data={"name": "Welcome", "csrf": token}).status_code == 303


def test_login_form_needs_its_csrf_token(browser_client, with_password):
    browser_client.get("/dashboard/login")
    assert browser_client.post("/dashboard/login", data={"password": PASSWORD}).status_code == 403


def create_app(client: httpx.Client, name: str) -> str:
    token = csrf_of(client.get("/dashboard"))
    response = client.post("/dashboard/apps", data={"name": name, "csrf": token})
    assert response.status_code == 303
    return response.headers["location"].split("/dashboard/apps/")[1].split("?")[0]


def test_create_app_and_change_its_settings(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    page = admin_client.get(f"/dashboard/apps/{app_id}?tab=settings")
    assert "Disallow user synchronization via the browser" in page.text and "Allowed origins" in page.text
    form = {"csrf": csrf_of(page), "disallowConversationSync": "on", "identityVerification": "on",
            "allowedOrigins": "https://shop.example.com", "participantLimit": "50", "guestLimit": "500"}
    assert admin_client.post(f"/dashboard/apps/{app_id}/settings", data=form).status_code == 303
    saved = admin_client.get(f"/dashboard/apps/{app_id}?tab=settings&saved=1").text
    assert "Settings saved" in saved and 'value="https://shop.example.com"' in saved
    app = server.app.chat.db.write_blocking(lookup.find_app, app_id)
    assert (app.disallow_user_sync, app.disallow_conversation_sync, app.identity_verification) == (False, True, True)
    assert (app.participant_limit, app.guest_limit, app.allowed_origins) == (50, 500, "https://shop.example.com")


def test_rate_limits_and_loose_verified_sync_in_the_settings_tab(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    page = admin_client.get(f"/dashboard/apps/{app_id}?tab=settings")
    assert "What identity verification protects" in page.text and 'placeholder="30/minute (default)"' in page.text
    form = {"csrf": csrf_of(page), "participantLimit": "100", "guestLimit": "10000", "allowedOrigins": "",
            "looseVerifiedSync": "on", "messagesPerUser": "5/minute", "joinsPerConnection": ""}
    assert admin_client.post(f"/dashboard/apps/{app_id}/settings", data=form).status_code == 303
    app = server.app.chat.db.write_blocking(lookup.find_app, app_id)
    assert app.loose_verified_sync and json.loads(app.rate_limits) == {"messagesPerUser": "5/minute"}
    assert 'value="5/minute"' in admin_client.get(f"/dashboard/apps/{app_id}?tab=settings").text
    form.update(csrf=csrf_of(page), messagesPerUser="as fast as you like")
    refused = admin_client.post(f"/dashboard/apps/{app_id}/settings", data=form)
    assert refused.status_code == 400 and "messagesPerUser must be a rate like" in refused.text
    app = server.app.chat.db.write_blocking(lookup.find_app, app_id)
    assert json.loads(app.rate_limits) == {"messagesPerUser": "5/minute"}  # nothing changed by the refused form


def test_bad_settings_are_refused_and_nothing_changes(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    token = csrf_of(admin_client.get(f"/dashboard/apps/{app_id}?tab=settings"))
    bad = admin_client.post(f"/dashboard/apps/{app_id}/settings",
                            data={"csrf": token, "participantLimit": "lots", "guestLimit": "5", "allowedOrigins": ""})
    assert bad.status_code == 400 and "participantLimit must be an integer" in bad.text
    assert 'value="100"' in admin_client.get(f"/dashboard/apps/{app_id}?tab=settings").text


def test_rotating_the_secret_needs_confirmation_and_rejects_the_old_key(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    overview = admin_client.get(f"/dashboard/apps/{app_id}")
    old_secret = re.search(r'id="secret-key">([^<]+)<', overview.text)[1]
    rest = f"{server.base_url}/v1/{app_id}/conversations"
    assert httpx.get(rest, headers={"Authorization": f"Bearer {old_secret}"}).status_code == 200
    unconfirmed = admin_client.post(f"/dashboard/apps/{app_id}/rotate", data={"csrf": csrf_of(overview)})
    assert unconfirmed.status_code == 400
    rotated = admin_client.post(f"/dashboard/apps/{app_id}/rotate", data={"csrf": csrf_of(overview), "confirm": "on"})
    assert rotated.status_code == 303
    new_secret = re.search(r'id="secret-key">([^<]+)<', admin_client.get(rotated.headers["location"]).text)[1]
    assert new_secret != old_secret
    assert httpx.get(rest, headers={"Authorization": f"Bearer {old_secret}"}).status_code == 401
    assert httpx.get(rest, headers={"Authorization": f"Bearer {new_secret}"}).status_code == 200


def test_browse_users_conversations_and_one_conversation(admin_client, server, tenant, api, group):
    api.post("conversations/group/messages", json=[{"text": "hello <b>there</b>", "sender": "123456", "type": "UserMessage"}])
    base = f"/dashboard/apps/{tenant['appId']}"
    users = admin_client.get(f"{base}/users?q=seb")
    assert "Sebastian" in users.text and "Alice" not in users.text
    conversations = admin_client.get(f"{base}/conversations?q=hel")
    assert ">group</a>" in conversations.text
    detail = admin_client.get(f"{base}/conversation?id=group")
    assert "Participants (3)" in detail.text and "hello &lt;b&gt;there&lt;/b&gt;" in detail.text
    assert admin_client.get(f"{base}/users?page=0").status_code == 400
    assert admin_client.get(f"{base}/conversation?id=nope").status_code == 404


def test_pages_of_users_are_exact_at_their_boundaries(admin_client, tenant, api):
    """26 and 51 users: every user on exactly one page, none skipped at a boundary (the 26th was)."""
    for i in range(51):
        assert api.put(f"users/u{i:02d}", json={"name": f"Person {i:02d}"}).status_code == 200
    base = f"/dashboard/apps/{tenant['appId']}/users"
    seen = []
    for page in (1, 2, 3):
        seen += re.findall(r"Person (\d\d)", admin_client.get(f"{base}?page={page}").text)
    assert sorted(seen) == [f"{i:02d}" for i in range(51)] and len(seen) == 51
    assert "Next" not in admin_client.get(f"{base}?page=3").text
    for page in ("99999999999999999999", "1e3", "-2"):
        assert admin_client.get(f"{base}?page={page}").status_code == 400


@pytest.mark.parametrize("conversation_id", ["a/b", "..", "../x", "q?x=1#y", "50% off & more"])
async def test_links_to_conversations_with_any_id_work(admin_client, server, tenant, api, conversation_id):
    from tests.realtime_client import connect

    api.put("users/u", json={"name": "U"})
    client = await connect(server, tenant["appId"], "u")  # browser sync takes any id, '/' and '..' too
    assert await client.call("conversation:sync", {"conversationId": conversation_id, "participants": [{"user": "u"}]}) == {"created": True}
    await client.close()
    listing = admin_client.get(f"/dashboard/apps/{tenant['appId']}/conversations").text
    href = re.search(r'href="(/dashboard/apps/[^"]+/conversation\?id=[^"]+)"', listing)[1]
    detail = admin_client.get(href.replace("&amp;", "&"))
    assert detail.status_code == 200 and f"› {conversation_id.replace('&', '&amp;')}</p>" in detail.text


def test_embed_tab_and_live_figures(admin_client, tenant):
    base = f"/dashboard/apps/{tenant['appId']}"
    embed = admin_client.get(f"{base}?tab=embed").text
    assert "/talk.js" in embed and f"appId: '{tenant['appId']}'" in embed and 'data-copy="snippet"' in embed
    live = admin_client.get(f"{base}?tab=live").text
    assert 'id="live-connections">0<' in live and "No guests online" in live


def test_sign_out(admin_client):
    token = csrf_of(admin_client.get("/dashboard"))
    assert admin_client.post("/dashboard/logout", data={"csrf": token}).status_code == 303
    assert admin_client.get("/dashboard").status_code == 303


def test_sign_out_ends_the_session_on_the_server_not_only_in_the_browser(admin_client):
    stolen = admin_client.cookies["parley_dashboard"]  # a copy of the cookie, taken before signing out
    token = csrf_of(admin_client.get("/dashboard"))
    assert admin_client.post("/dashboard/logout", data={"csrf": token}).status_code == 303
    with httpx.Client(base_url=str(admin_client.base_url), cookies={"parley_dashboard": stolen}) as replay:
        assert replay.get("/dashboard", follow_redirects=False).status_code == 303
