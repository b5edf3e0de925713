"""kill -9 durability: every message the server acknowledged is stored exactly once after a restart,
and resending what was not acknowledged (same idempotency keys) stores nothing twice."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.figures import record
from tests.processes import ParleyProcess
from tests.realtime_client import Client

KILLS = 3
SENDERS = 4


async def _send_until_killed(base_url: str, app_id: str, sender: str, acked: dict, sent: dict) -> None:
    client = Client()
    await client.connect(base_url, {"appId": app_id, "me": sender})
    try:
        while True:
            key = str(uuid.uuid4())
            sent[key] = sender
            answer = await client.sio.call("message:send", {"conversationId": "room", "text": f"{sender} {key}",
                                                            "idempotencyKey": key}, timeout=5)
            acked[key] = answer["message"]["id"]
    except Exception:  # the server went away mid-stream
        pass
    finally:
        await client.sio.disconnect()


def all_messages(api: httpx.Client) -> list[dict]:
    found, after = [], None
    while True:
        page = api.get("conversations/room/messages", params={"limit": 100, **({"startingAfter": after} if after else {})})
        data = page.json()["data"]
        found += data
        if len(data) < 100:
            return found
        after = data[-1]["id"]


async def test_acknowledged_messages_survive_kill_9_exactly_once(tmp_path):
    server = ParleyProcess(tmp_path / "durable.db")
    tenant = server.create_app()
    server.set_app(tenant["appId"], messagesPerConnection="1000000/second", messagesPerUser="1000000/second")
    server.start()
    headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
    acked: dict[str, str] = {}
    sent: dict[str, str] = {}
    senders = [f"s{i}" for i in range(SENDERS)]
    with httpx.Client(base_url=f"{server.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10) as api:
        for sender in senders:
            api.put(f"users/{sender}", json={"name": sender}).raise_for_status()
        api.put("conversations/room", json={"participants": senders}).raise_for_status()
    for _ in range(KILLS):
        tasks = [asyncio.create_task(_send_until_killed(server.base_url, tenant["appId"], s, acked, sent)) for s in senders]
        await asyncio.sleep(1.5)  # a few hundred acknowledged sends, and more in flight
        server.kill()
        await asyncio.gather(*tasks)
        server.start()
    with httpx.Client(base_url=f"{server.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10) as api:
        stored = all_messages(api)
        by_id = {m["id"]: m for m in stored}
        assert len(acked) > 100 and all(message_id in by_id for message_id in acked.values())
        keys = [m["text"].split(" ", 1)[1] for m in stored]
        assert len(keys) == len(set(keys)), "a message was stored twice"
        # the sends that were never acknowledged, sent again with their keys: nothing is stored twice
        unacked = [key for key in sent if key not in acked][:50]
        for key in unacked:
            body = [{"text": f"{sent[key]} {key}", "sender": sent[key], "type": "UserMessage", "idempotencyKey": key}]
            assert api.post("conversations/room/messages", json=body).status_code == 200
        again = [m["text"].split(" ", 1)[1] for m in all_messages(api)]
        assert len(again) == len(set(again)) and set(unacked) <= set(again)
        record("kill9", {"kills": KILLS, "acknowledged": len(acked), "lost": 0, "duplicates": 0, "resent": len(unacked)})
    server.stop()
    assert server.tracebacks() == []
