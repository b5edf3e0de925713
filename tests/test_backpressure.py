"""Writes under real servers: the fast path is taken by `parley serve` itself, and a visitor who
stops reading is dropped at its cap while everyone else receives everything."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest
from websockets.frames import Frame, Opcode

from tests.conftest import serve
from tests.processes import ParleyProcess
from tests.realtime_client import connect


@pytest.fixture
def parley_serve(tmp_path):
    """A real `parley serve` process (uvicorn as Parley configures it), with one app and a room."""
    server = ParleyProcess(tmp_path / "serve.db")
    created = server.create_app("Serve")
    server.start()
    api = httpx.Client(base_url=f"{server.base_url}/v1/{created['appId']}/", headers={"Authorization": f"Bearer {created['secretKey']}"})
    api.put("users/host", json={"name": "Host"}).raise_for_status()
    api.put("conversations/room", json={"participants": ["host"]}).raise_for_status()
    try:
        yield server.base_url, created, api
    finally:
        api.close()
        server.stop()
        assert server.tracebacks() == []


async def test_parley_serve_writes_broadcasts_directly_to_websockets(parley_serve):
    base, created, api = parley_serve
    health = httpx.get(f"{base}/healthz").json()["realtime"]
    assert health["writePath"] == "direct", health["why"]
    guests = [await connect(type("S", (), {"base_url": base})(), created["appId"], {"id": f"g{i}", "name": "G"})
              for i in range(3)]
    for guest in guests:
        assert "error" not in await guest.call("conversation:join", {"conversationId": "room", "asGuest": True})
    api.post("conversations/room/messages", json=[{"text": "to all", "type": "SystemMessage"}]).raise_for_status()
    for guest in guests:
        assert (await guest.next("message:new"))["message"]["text"] == "to all"
    health = httpx.get(f"{base}/healthz").json()["realtime"]
    assert health["opened_direct"] == 3 and "opened_asgi" not in health, health
    assert health["deliveries"] >= 3
    for guest in guests:
        await guest.close()


def stalled_guest(base_url: str, app_id: str) -> socket.socket:
    """A guest that joins the room and then never reads again (a tiny receive window, too)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(base_url.rsplit(":", 1)[1])))
    sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert b"101" in sock.recv(4096).split(b"\r\n", 1)[0]

    def send(text: str) -> None:
        sock.sendall(Frame(Opcode.TEXT, text.encode()).serialize(mask=True))

    send("40" + json.dumps({"appId": app_id, "me": {"id": "stalled", "name": "Stalled"}}))
    time.sleep(0.3)
    send("421" + json.dumps(["conversation:join", {"conversationId": "room", "asGuest": True}]))
    time.sleep(0.3)
    return sock  # from here on, nothing is read


async def test_a_stalled_visitor_is_dropped_at_its_cap_and_the_others_get_everything(settings):
    with serve(settings.replace(ws_backlog_bytes=64 * 1024)) as live:
        tenant = live.create_app()
        headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
        api = httpx.Client(base_url=f"{live.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10)
        api.put("users/host", json={"name": "Host"})
        api.put("conversations/room", json={"participants": ["host"]})
        readers = [await connect(live, tenant["appId"], {"id": f"r{i}", "name": "R"}) for i in range(3)]
        for reader in readers:
            await reader.call("conversation:join", {"conversationId": "room", "asGuest": True})
        stalled = await asyncio.to_thread(stalled_guest, live.base_url, tenant["appId"])
        # 160 messages of ~48 KB: 7.7 MB, more than the kernel's socket buffers take (up to 4 MB each way)
        custom = {f"k{k}": "x" * 9_900 for k in range(4)}
        for batch in range(16):
            body = [{"text": f"{batch * 10 + i} " + "y" * 8000, "type": "SystemMessage", "custom": custom} for i in range(10)]
            # off the event loop: the readers (on this loop) must keep reading meanwhile
            assert (await asyncio.to_thread(api.post, "conversations/room/messages", json=body)).status_code == 200
        for reader in readers:
            texts = [(await reader.next("message:new", timeout=10))["message"]["text"] for _ in range(160)]
            assert [int(t.split()[0]) for t in texts] == list(range(160))
        health = httpx.get(f"{live.base_url}/healthz").json()["realtime"]
        assert health["dropped_slow"] == 1 and health["connections"] == 3, health
        for reader in readers:
            assert reader.sio.connected
            await reader.close()
        stalled.close()
        api.close()
