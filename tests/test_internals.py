"""The internals Parley takes from uvicorn, python-socketio and limits, checked against the real
libraries (no fakes): if an upgrade moves any of them, these fail instead of Parley silently taking
the slow path."""

from __future__ import annotations

import asyncio
import threading

import pytest
import socketio
import uvicorn

from server.chat import _limits_storage
from server.realtime import _internals
from server.realtime.fanout import FanoutManager
from server.serving import UVICORN_OPTIONS
from tests.conftest import free_port
from tests.raw_client import RawClient


def test_the_start_up_check_finds_the_direct_path_with_what_is_installed():
    report = _internals.check(UVICORN_OPTIONS["ws"])
    assert report["writePath"] == "direct", report["why"]
    assert report["untested"] == [], f"written for {_internals.WRITTEN_FOR}, running {report['versions']}"


def test_the_start_up_check_names_what_is_missing():
    report = _internals.check("websockets")
    assert report["writePath"] == "asgi" and "not 'websockets-sansio'" in report["why"]
    _limits_storage.check()  # raises if limits' memory storage moved


class Probe:
    """A bare ASGI app under real uvicorn that records what `transport_of` makes of each `send`."""

    def __init__(self, wrap_send: bool) -> None:
        self.wrap_send = wrap_send
        self.found: list[object] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return
        await receive()
        if self.wrap_send:  # what any middleware that wraps `send` does
            inner = send

            async def send(message):  # noqa: F811
                await inner(message)

        await send({"type": "websocket.accept"})
        self.found.append(_internals.transport_of(send))
        _internals.release_handshake(send)
        await send({"type": "websocket.send", "text": "0{}"})
        await send({"type": "websocket.close", "code": 1000})


def run_probe(probe: Probe) -> None:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(probe, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    try:
        async def client():
            raw = await RawClient.open(f"http://127.0.0.1:{port}", query="x")
            await raw.closed()

        asyncio.run(client())
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_real_uvicorn_websocket_gives_its_transport():
    probe = Probe(wrap_send=False)
    run_probe(probe)
    [transport] = probe.found
    assert transport is not None and hasattr(transport, "get_write_buffer_size")


def test_a_wrapped_send_falls_back_to_the_asgi_path():
    probe = Probe(wrap_send=True)
    run_probe(probe)
    assert probe.found == [None]


def test_the_socket_server_uses_parleys_engine():
    from server.realtime.engine import EngineServer
    from server.realtime.server import create_sio

    sio = create_sio()
    assert isinstance(sio, socketio.AsyncServer) and isinstance(sio.eio, EngineServer)


async def test_rooms_are_indexed_by_socket():
    manager = FanoutManager()
    manager.set_server(type("S", (), {"eio": type("E", (), {"generate_id": staticmethod(lambda: "sid1")})(),
                                      "packet_class": socketio.packet.Packet})())
    sid = await manager.connect("eio1", "/")
    for room in ("a", "b", "c"):
        await manager.enter_room(sid, "/", room)
    assert sorted(manager.get_rooms(sid, "/")) == ["a", "b", "c"]
    assert manager.sid_targets("/", sid) == [(sid, "eio1")] and not manager.is_sid_room("/", "a")
    await manager.disconnect(sid, "/")
    assert manager.get_rooms(sid, "/") == [] and "/" not in manager.rooms


def test_the_limits_sweep_replaces_the_libraries_own(monkeypatch):
    storage = _limits_storage.SweepingMemoryStorage()
    assert type(storage)._MemoryStorage__schedule_expiry is not _limits_storage.MemoryStorage._MemoryStorage__schedule_expiry
    monkeypatch.setattr(_limits_storage, "_ATTRIBUTES", (*_limits_storage._ATTRIBUTES, "an_attribute_limits_never_had"))
    with pytest.raises(RuntimeError, match="pin limits to 5.8"):
        _limits_storage.check()
