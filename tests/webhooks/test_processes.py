"""Two `parley serve` processes on one PostgreSQL database, a receiver that is down for a while and a
restart in between: every event arrives, once, and each conversation's in order."""

from __future__ import annotations

import httpx

from tests.notifications.conftest import wait_until
from tests.processes import ParleyProcess


def test_two_processes_a_receiver_outage_and_a_restart_lose_nothing_and_send_each_event_once(postgres_url, receiver):
    env = {"PARLEY_WEBHOOK_ALLOW_PRIVATE": "1", "PARLEY_WEBHOOK_RETRY_SECONDS": "1"}
    one, two = ParleyProcess(postgres_url, **env), ParleyProcess(postgres_url, **env)
    app = one.create_app("Acme")
    receiver.secret_key = app["secretKey"]
    one.set_app(app["appId"], webhookUrl=receiver.url, webhookEvents="message.sent", webhookAllowHttp="true",
                restCallsPerApp="100000/minute")
    receiver.statuses = [503] * 8  # down: the first attempts (two for each conversation) fail
    one.start(), two.start()
    try:
        headers = {"Authorization": f"Bearer {app['secretKey']}"}
        with httpx.Client(base_url=f"{one.base_url}/v1/{app['appId']}/", headers=headers, timeout=10) as api:
            api.put("users/bea", json={"name": "Bea"}).raise_for_status()
            for c in range(4):
                api.put(f"conversations/c{c}", json={"participants": ["bea"]}).raise_for_status()
            for i in range(5):
                for c in range(4):
                    body = [{"text": f"{c}-{i}", "sender": "bea", "type": "UserMessage"}]
                    api.post(f"conversations/c{c}/messages", json=body).raise_for_status()
        wait_until(lambda: len(receiver.requests) >= 8, 30, "failing attempts")
        one.stop()  # a restart while events wait for the receiver
        one.start()
        wait_until(lambda: len(receiver.events) >= 20, 60, "all 20 events once the receiver is back")
    finally:
        one.stop(), two.stop()
    texts = [e["data"]["message"]["text"] for e in receiver.events]
    assert len(receiver.events) == len({e["id"] for e in receiver.events}) == 20  # each once
    for c in range(4):
        assert [t for t in texts if t.startswith(f"{c}-")] == [f"{c}-{i}" for i in range(5)]  # in order per conversation
    assert one.tracebacks() == [] and two.tracebacks() == []
