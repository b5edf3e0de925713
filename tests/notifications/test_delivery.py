"""Delivery that survives trouble: a restart with notifications pending, SMTP down then up, an SMS
gateway (grouped text, a failure retried), and two processes sharing one PostgreSQL outbox."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.conftest import free_port, serve
from tests.processes import ParleyProcess
from tests.notifications.conftest import QUIET_SECONDS, outbox, rest, settled, wait_until


def people(api, phone: bool = False) -> None:
    seller = {"name": "Sam Seller", "email": ["sam@example.com"], **({"phone": ["+15550100"]} if phone else {})}
    assert api.put("users/buyer", json={"name": "Bea Buyer"}).status_code == 200
    assert api.put("users/seller", json=seller).status_code == 200
    assert api.put("conversations/order-7", json={"subject": "Order #7", "participants": ["buyer", "seller"]}).status_code == 200


def send(api, text: str, conversation: str = "order-7") -> None:
    response = api.post(f"conversations/{conversation}/messages", json=[{"text": text, "sender": "buyer", "type": "UserMessage"}])
    assert response.status_code == 200, response.text


def new_app(server, delay: int = QUIET_SECONDS) -> dict:
    app = server.create_app("Acme Market")
    server.update_app(app["appId"], notificationDelay=delay)
    return app


def test_notifications_pending_at_a_restart_are_sent_once_after_it(settings, smtp):
    with serve(settings) as first:
        tenant = new_app(first, delay=2)
        with rest(first, tenant) as api:
            people(api)
            for text in ("one", "two", "three"):
                send(api, text)
        assert [r["status"] for r in outbox(first, tenant["appId"])] == ["pending"]
    assert smtp.inbox.messages == []  # stopped before the quiet period ended
    with serve(settings.replace(port=free_port())) as second:
        [email] = smtp.inbox.wait_for(1, "sam@example.com")
        text = email.get_body(("plain",)).get_content()
        assert all(word in text for word in ("one", "two", "three"))
        with rest(second, tenant) as api:
            send(api, "four")  # the marker: a later notification arrives after the first, and only it
        smtp.inbox.wait_for(2, "sam@example.com")
        rows = settled(second, tenant["appId"], 2)
    assert len(smtp.inbox.to("sam@example.com")) == 2
    assert "four" in smtp.inbox.to("sam@example.com")[1].get_body(("plain",)).get_content()
    assert [r["status"] for r in rows] == ["sent", "sent"]


def test_smtp_down_then_up_sends_once(server, smtp):
    tenant = new_app(server)
    smtp.stop()
    with rest(server, tenant) as api:
        people(api)
        send(api, "Are you there?")
        failed = wait_until(lambda: [r for r in outbox(server, tenant["appId"]) if r["attempts"] >= 1 and r["status"] == "pending"],
                            what="a failed attempt waiting to be retried")
        assert "attempt 1 failed" in failed[0]["detail"] and "127.0.0.1" in failed[0]["detail"]
        smtp.start()
        [email] = smtp.inbox.wait_for(1, "sam@example.com")
        assert "Are you there?" in email.get_body(("plain",)).get_content()
        send(api, "marker")
        smtp.inbox.wait_for(2, "sam@example.com")
    first, second = smtp.inbox.to("sam@example.com")
    assert "marker" in second.get_body(("plain",)).get_content() and "marker" not in first.get_body(("plain",)).get_content()
    rows = settled(server, tenant["appId"], 2)
    assert [r["status"] for r in rows] == ["sent", "sent"] and rows[1]["attempts"] >= 2


def test_the_sms_gateway_receives_the_grouped_text_and_a_failure_is_retried(server, sms):
    tenant = new_app(server)
    sms.status = 503
    with rest(server, tenant) as api:
        people(api, phone=True)
        send(api, "Can you do 40?")
        send(api, "Or 45?")
        wait_until(lambda: [r for r in outbox(server, tenant["appId"]) if r["channel"] == "sms" and r["attempts"] >= 1
                            and r["status"] == "pending"], what="a failed SMS waiting to be retried")
        sms.status = 200
        [text] = sms.wait_for(1)
    assert text["to"] == "+15550100" and text["appId"] == tenant["appId"] and text["conversationId"] == "order-7"
    assert text["text"].startswith("Acme Market: 2 new messages in Order #7")
    rows = settled(server, tenant["appId"], 2)
    assert {r["channel"]: r["status"] for r in rows} == {"sms": "sent", "email": "sent"}


def test_two_processes_on_one_postgresql_database_send_each_notification_once(smtp, postgres_url):
    env = {"PARLEY_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "PARLEY_NOTIFICATION_RETRY_SECONDS": "1"}
    one, two = ParleyProcess(postgres_url, **env), ParleyProcess(postgres_url, **env)
    tenant = one.create_app("Acme Market")
    one.set_app(tenant["appId"], notificationDelay="1")
    one.start(), two.start()
    recipients = [f"user{i}" for i in range(30)]
    try:
        headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
        with httpx.Client(base_url=f"{one.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10) as api:
            assert api.put("users/buyer", json={"name": "Bea Buyer"}).status_code == 200
            for user_id in recipients:
                assert api.put(f"users/{user_id}", json={"name": user_id, "email": [f"{user_id}@example.com"]}).status_code == 200
                assert api.put(f"conversations/c-{user_id}", json={"participants": ["buyer", user_id]}).status_code == 200
                send(api, f"hello {user_id}", f"c-{user_id}")
        smtp.inbox.wait_for(len(recipients))
        wait_until(lambda: _statuses(postgres_url) == {"sent": len(recipients)}, what="every notification marked sent")
    finally:
        one.stop(), two.stop()
    for user_id in recipients:
        assert len(smtp.inbox.to(f"{user_id}@example.com")) == 1, user_id
    assert len(smtp.inbox.messages) == len(recipients)
    assert one.tracebacks() == [] and two.tracebacks() == []


def _statuses(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM notification GROUP BY status").fetchall())


@pytest.mark.parametrize("url", ["smtp:/no-host", "smtps://", "imap://mail.example.com", "smtp://host:notaport"])
def test_a_malformed_smtp_url_stops_the_server_with_a_clear_message(url):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "server", "serve"], env={"PARLEY_SMTP_URL": url, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "PARLEY_SMTP_URL" in done.stderr and "Traceback" not in done.stderr
