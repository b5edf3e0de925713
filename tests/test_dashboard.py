"""The dashboard over HTTP: sign-in, CSRF, rate limit, apps, settings, secret rotation, browsing, notifications,
webhooks."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from server.chat import admin, ids, lookup
from server.notify.targets import SmtpTarget
from server.proxies import parse_networks
from server.db.models import WebhookEvent
from server.web import dashboard, mailbox
from server.web.dashboard_auth import SignInGuard
from tests.conftest import free_port
from tests.notifications.conftest import settled

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
         "/dashboard/apps/x/conversation?id=c", "/dashboard/apps/x?tab=notifications", "/dashboard/apps/x/notification?id=1",
         "/dashboard/apps/x?tab=webhooks"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_without_signing_in(browser_client, path):
    response = browser_client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"


ACTIONS = ["/dashboard/apps", "/dashboard/apps/x/settings", "/dashboard/apps/x/rotate", "/dashboard/apps/x/webhooks",
           "/dashboard/apps/x/webhooks/test", "/dashboard/apps/x/webhooks/redeliver"]


@pytest.mark.parametrize("path", ACTIONS)
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
            "allowedOrigins": "https://shop.example.com", "participantLimit": "50", "guestLimit": "500",
            "notificationDelay": "60"}
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
    form = {"csrf": csrf_of(page), "participantLimit": "100", "guestLimit": "10000", "allowedOrigins": "", "notificationDelay": "60",
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


SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def notified(server, tenant, api, group):
    """Sebastian wrote to the group while Alice (with an email address) was away: her notification, ended.
    The test settings have no SMTP server, so it went to the development mailbox."""
    server.update_app(tenant["appId"], notificationDelay=0)
    sent = api.post("conversations/group/messages", json=[{"text": f"See {SCRIPT} & more", "sender": "654321", "type": "UserMessage"}])
    assert sent.status_code == 200, sent.text
    [row] = settled(server, tenant["appId"], 1)
    assert (row["userId"], row["status"], row["hasContent"]) == ("123456", "sent", True)
    return row


def test_the_notifications_tab_lists_what_was_sent_and_says_where_email_goes(admin_client, tenant, notified):
    page = admin_client.get(f"/dashboard/apps/{tenant['appId']}?tab=notifications").text
    row = re.search(r"<tbody>\s*<tr>.*?</tr>", page, re.S)[0]
    assert '<span class="badge badge--sent">sent</span>' in row and "sent to alice@example.com" in row
    assert "<code>123456</code>" in row and '/conversation?id=group">group</a>' in row and "<td>email</td>" in row
    assert "When (UTC)" in page and re.search(r"<td class=\"when\">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*<br><small>sent \d{4}-", row)
    assert f'/notification?id={notified["id"]}"' in row
    assert "Email is kept in the development mailbox" in page and "“Notifications”" in page and "docs/notifications.md" in page
    assert "No SMS gateway is configured" in page and "Replies by email are off" in page


def test_the_notifications_tab_before_any_and_with_smtp_sms_and_replies_configured(settings):
    from tests.conftest import serve

    configured = settings.replace(smtp=SmtpTarget("mail.example.com", 587, use_tls=False),
                                  sms_webhook_url="https://user:pw@sms.example.com/hook?token=s3cret",
                                  inbound_smtp=("127.0.0.1", free_port()), reply_domain="replies.example.com")
    with serve(configured) as live, httpx.Client(base_url=live.base_url, follow_redirects=False, timeout=10) as client:
        asyncio.run(admin.set_password(live.app.chat, PASSWORD))
        assert sign_in(client).status_code == 303
        app_id = live.create_app("Shop")["appId"]
        page = client.get(f"/dashboard/apps/{app_id}?tab=notifications").text
    assert "No notifications yet." in page and "<table" not in page
    assert "SMTP server <code>smtp://mail.example.com:587</code>" in page and "development mailbox" not in page
    assert "gateway at <code>https://sms.example.com</code>" in page and "s3cret" not in page and "pw@" not in page
    assert f"received on <code>127.0.0.1:{configured.inbound_smtp[1]}</code>" in page and "@replies.example.com" in page


@pytest.mark.parametrize("conversation_id", ["50% off & more", "q?x=1#y"])
def test_the_notifications_tab_links_to_conversations_with_any_id(admin_client, server, tenant, api, conversation_id):
    from urllib.parse import quote

    api.put("users/a", json={"name": "A", "email": ["a@example.com"]})
    api.put("users/b", json={"name": "B"})
    path = f"conversations/{quote(conversation_id, safe='')}"
    assert api.put(path, json={"participants": ["a", "b"]}).status_code == 200
    server.update_app(tenant["appId"], notificationDelay=0)
    assert api.post(f"{path}/messages", json=[{"text": "hi", "sender": "b", "type": "UserMessage"}]).status_code == 200
    settled(server, tenant["appId"], 1)
    page = admin_client.get(f"/dashboard/apps/{tenant['appId']}?tab=notifications").text
    href = re.search(r'href="(/dashboard/apps/[^"]+/conversation\?id=[^"]+)"', page)[1]
    assert href.endswith("?id=" + quote(conversation_id, safe=""))
    assert admin_client.get(href).status_code == 200


def test_the_development_mailbox_shows_the_email_as_sent_in_a_sandboxed_frame(admin_client, tenant, notified):
    view = admin_client.get(f"/dashboard/apps/{tenant['appId']}/notification?id={notified['id']}")
    assert view.status_code == 200
    assert f"<h1>{notified['subject']}</h1>" in view.text and "<dd>alice@example.com</dd>" in view.text
    assert "<dd>development mailbox (PARLEY_SMTP_URL is not set" in view.text
    text = re.search(r'<pre class="email-text">(.*?)</pre>', view.text, re.S)[1]
    assert "See &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text and "Sebastian" in text
    [frame] = re.findall(r"<iframe[^>]*>", view.text)
    assert 'sandbox=""' in frame and "allow-" not in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame)[1]
    # escaped twice: once in the email's HTML, once more to sit in the attribute (the frame decodes one level)
    assert "See &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; &amp;amp; more" in srcdoc
    assert "&lt;script" not in srcdoc and SCRIPT not in view.text
    assert "&lt;h1 style=" in srcdoc  # the email's own markup, which the frame renders
    policy = view.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-hashes' 'sha256-" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def test_the_preview_policy_allows_exactly_the_emails_inline_styles():
    import base64
    import hashlib

    def digest(style):
        return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"

    policy = mailbox.preview_csp('<style>p{x:1}</style><p style="color:red;font-family:&quot;A B&quot;">t</p><b style="color:red;font-family:&quot;A B&quot;">')
    styles = sorted(["p{x:1}", 'color:red;font-family:"A B"'])  # entities decoded, as the browser hashes them
    assert f"style-src 'self' 'unsafe-hashes' {digest(styles[0])} {digest(styles[1])};" in policy
    assert mailbox.preview_csp("<p>plain</p>") == mailbox.DASHBOARD_CSP


def test_a_notification_of_another_app_or_none_at_all_is_not_found(admin_client, server, tenant, notified):
    base = f"/dashboard/apps/{tenant['appId']}/notification"
    for query in ("?id=999999", "?id=abc", "?id=-1", "?id=99999999999999999999999", ""):
        missing = admin_client.get(base + query)
        assert missing.status_code == 404 and "NOT_FOUND" in missing.text and "That did not work" in missing.text
    other = server.create_app("Other")["appId"]
    foreign = admin_client.get(f"/dashboard/apps/{other}/notification?id={notified['id']}")
    assert foreign.status_code == 404 and notified["subject"] not in foreign.text


def test_the_webhooks_tab_saves_url_events_and_plain_http(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    page = admin_client.get(f"/dashboard/apps/{app_id}?tab=webhooks")
    assert "docs/webhooks.md" in page.text and "Webhooks are off" in page.text and "No events yet" in page.text
    form = {"csrf": csrf_of(page), "webhookUrl": "http://hooks.example.com/parley", "webhookAllowHttp": "on",
            "webhookEvents": ["message.sent", "user.created"]}
    saved = admin_client.post(f"/dashboard/apps/{app_id}/webhooks", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?tab=webhooks&webhook-saved=1")
    shown = admin_client.get(saved.headers["location"]).text
    assert "Webhook settings saved" in shown and 'value="http://hooks.example.com/parley"' in shown
    checked = re.findall(r'name="webhookEvents" value="([^"]+)" checked', shown)
    assert checked == ["user.created", "message.sent"]  # in the order of webhook_events.TYPES
    assert re.search(r'name="webhookAllowHttp" checked', shown)
    app = server.app.chat.db.write_blocking(lookup.find_app, app_id)
    assert (app.webhook_url, json.loads(app.webhook_events), app.webhook_allow_http) == (
        "http://hooks.example.com/parley", ["user.created", "message.sent"], True)


def test_an_invalid_webhook_url_is_refused_with_its_message(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    token = csrf_of(admin_client.get(f"/dashboard/apps/{app_id}?tab=webhooks"))
    refused = admin_client.post(f"/dashboard/apps/{app_id}/webhooks", data={"csrf": token, "webhookUrl": "ftp://nope"})
    assert refused.status_code == 400 and "webhookUrl must be an https:// URL" in refused.text
    assert server.app.chat.db.write_blocking(lookup.find_app, app_id).webhook_url is None


def webhook_row(server, app_id: str, status: str, attempts: int) -> int:
    def write():
        app = lookup.find_app(app_id)
        now = ids.now_ms()
        return WebhookEvent.create(app=app.id, event_id=f"evt_{status}{now}", type="message.sent", body="{}", status=status,
                                   attempts=attempts, due_at=now + 3_600_000, created_at=now, detail="HTTP 500").id

    return server.app.chat.db.write_blocking(write)


def test_the_test_event_needs_csrf_and_a_url_and_shows_in_the_log(admin_client, server):
    app_id = create_app(admin_client, "Shop")
    path = f"/dashboard/apps/{app_id}/webhooks/test"
    token = csrf_of(admin_client.get(f"/dashboard/apps/{app_id}?tab=webhooks"))
    no_url = admin_client.post(path, data={"csrf": token})
    assert no_url.status_code == 400 and "set a webhook URL" in no_url.text
    server.update_app(app_id, webhookUrl="https://hooks.example.com/parley", webhookEvents="message.sent")
    assert admin_client.post(path).status_code == 403
    assert admin_client.post(path, data={"csrf": "forged"}).status_code == 403
    assert "No events yet" in admin_client.get(f"/dashboard/apps/{app_id}?tab=webhooks").text
    queued = admin_client.post(path, data={"csrf": token})
    assert queued.status_code == 303 and queued.headers["location"].endswith("&test-queued=1")
    log = admin_client.get(queued.headers["location"]).text
    assert "Test event queued" in log and log.count("<td>webhook.test<br>") == 1  # not a ticked type, sent all the same


def test_redeliver_needs_csrf_and_a_delivered_or_failed_event_of_this_app(admin_client, server):
    app_id, other_id = create_app(admin_client, "Shop"), create_app(admin_client, "Other")
    failed, pending = webhook_row(server, app_id, "failed", 3), webhook_row(server, app_id, "pending", 1)
    elsewhere = webhook_row(server, other_id, "delivered", 1)
    page = admin_client.get(f"/dashboard/apps/{app_id}?tab=webhooks")
    assert page.text.count(">Redeliver</button>") == 1 and 'badge--failed">failed' in page.text
    path = f"/dashboard/apps/{app_id}/webhooks/redeliver"
    assert admin_client.post(path, data={"id": str(failed)}).status_code == 403
    for refused in (pending, elsewhere, "1; drop", ""):
        response = admin_client.post(path, data={"csrf": csrf_of(page), "id": str(refused)})
        assert response.status_code == 404 and "no delivered or failed webhook event" in response.text
    redelivered = admin_client.post(path, data={"csrf": csrf_of(page), "id": str(failed)})
    assert redelivered.status_code == 303 and "Event queued to be sent again" in admin_client.get(redelivered.headers["location"]).text
    row = server.app.chat.db.write_blocking(WebhookEvent.get_by_id, failed)
    assert row.attempts <= 1  # back to 0, pending now (or already tried once more: the app has no URL)
