"""Delivery: failures retried with growing delays and nothing lost or reordered; private addresses refused."""

from __future__ import annotations

import httpx

from server.chat import webhook_outbox
from tests.conftest import free_port, serve


def rest(server, tenant) -> httpx.Client:
    return httpx.Client(base_url=f"{server.base_url}/v1/{tenant['appId']}/",
                        headers={"Authorization": f"Bearer {tenant['secretKey']}"}, timeout=10)


def log(server, app_id):
    from server.chat import lookup

    app = server.app.chat.db.read_blocking(lookup.find_app, app_id)
    rows = []
    server.app.chat.db.read_blocking(lambda: rows.extend(_rows(app)))
    return rows


def _rows(app):
    from server.db.models import WebhookEvent

    return list(WebhookEvent.select().where(WebhookEvent.app == app.id).order_by(WebhookEvent.id).dicts())


def test_failures_are_retried_with_growing_delays_and_arrive_in_order(server, tenant, receiver):
    with rest(server, tenant) as api:
        api.put("users/bea", json={"name": "Bea"}).raise_for_status()
        api.put("conversations/order", json={"participants": ["bea"]}).raise_for_status()
        receiver.wait_for(lambda events: len(events) == 3, 10, "the user, the conversation, the participant")
        receiver.requests.clear()
        receiver.statuses = [500, 500, 503]  # the next three answers
        for text in ("one", "two", "three"):
            api.post("conversations/order/messages", json=[{"text": text, "sender": "bea", "type": "UserMessage"}]).raise_for_status()
    receiver.wait_for(lambda events: len([e for e in events if e["type"] == "message.sent"]) == 3, 30, "three messages")
    attempts = [when for when, _, _ in receiver.requests[:4]]
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert gaps[1] > gaps[0] * 1.3 and gaps[0] >= 0.7  # 1 s, then about 2 s, then about 4 s (with jitter)
    texts = [e["data"]["message"]["text"] for e in receiver.of_type("message.sent")]
    assert texts == ["one", "two", "three"]  # the conversation's events waited for the first
    first = [r for r in log(server, tenant["appId"]) if r["type"] == "message.sent"][0]
    assert first["status"] == "delivered" and first["attempts"] == 4


def test_a_private_address_is_refused_without_the_opt_in(settings, receiver):
    with serve(settings.replace(port=free_port(), webhook_allow_private=False)) as server:
        app = server.create_app("Acme")
        server.update_app(app["appId"], webhookUrl=receiver.url, webhookEvents="user.created", webhookAllowHttp=True)
        with rest(server, app) as api:
            api.put("users/bea", json={"name": "Bea"}).raise_for_status()
            api.put("users/sam", json={"name": "Sam"}).raise_for_status()
        from tests.notifications.conftest import wait_until

        rows = wait_until(lambda: [r for r in log(server, app["appId"]) if r["status"] == "failed"] or None, 10, "a refusal")
    assert "private or reserved address" in rows[0]["detail"] and "PARLEY_WEBHOOK_ALLOW_PRIVATE" in rows[0]["detail"]
    assert receiver.requests == []


def test_http_needs_the_apps_opt_in(server, receiver):
    app = server.create_app("Acme")
    server.update_app(app["appId"], webhookUrl=receiver.url, webhookEvents="user.created")
    with rest(server, app) as api:
        api.put("users/bea", json={"name": "Bea"}).raise_for_status()
    from tests.notifications.conftest import wait_until

    rows = wait_until(lambda: [r for r in log(server, app["appId"]) if r["status"] == "failed"] or None, 10, "a refusal")
    assert "must be https://" in rows[0]["detail"] and receiver.requests == []
    assert webhook_outbox.LOG_SIZE == 100


def test_the_command_line_sends_a_test_event_shows_the_log_and_redelivers(tmp_path, receiver):
    """`parley webhook test|log|redeliver` against a running `parley serve` on the same database."""
    import json

    from tests.notifications.conftest import wait_until
    from tests.processes import ParleyProcess, parley

    process = ParleyProcess(tmp_path / "parley.db", PARLEY_WEBHOOK_ALLOW_PRIVATE="1")
    app = process.create_app("Acme")
    receiver.secret_key = app["secretKey"]
    process.set_app(app["appId"], webhookUrl=receiver.url, webhookEvents="message.sent", webhookAllowHttp="true")
    process.start()
    try:
        queued = json.loads(parley("webhook", "test", app["appId"], env=process.env))
        wait_until(lambda: receiver.events, 10, "the test event")
        assert receiver.events[0]["id"] == queued["queued"] and receiver.events[0]["type"] == "webhook.test"
        [row] = wait_until(lambda: [r for r in json.loads(parley("webhook", "log", app["appId"], env=process.env))
                                    if r["status"] == "delivered"], 10, "the log to show it delivered")
        assert row["responseStatus"] == 200 and row["attempts"] == 1
        parley("webhook", "redeliver", app["appId"], str(row["id"]), env=process.env)
        wait_until(lambda: len(receiver.events) == 2, 10, "the redelivery")
        assert receiver.events[1]["id"] == queued["queued"]  # the same event, for the receiver to recognise
    finally:
        process.stop()
    assert process.tracebacks() == []
