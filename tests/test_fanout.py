"""The broadcast path: frames built once, written straight to websocket transports, or the fallback."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from server.realtime.fanout import direct_transport, text_frame


def parse(frame_bytes: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(frame_bytes)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 300_000])
def test_text_frames_of_every_length_encoding(size):
    payload = ("x" * size).encode()
    frame = parse(text_frame(payload))
    assert frame.opcode == Opcode.TEXT and frame.fin and frame.data == payload


class FakeTransport:
    def __init__(self, closing=False):
        self.closing = closing

    def is_closing(self):
        return self.closing


class SansIOProtocol:
    def __init__(self, transport, handshake_complete=True, close_sent=False):
        self.transport, self.handshake_complete, self.close_sent, self.conn = transport, handshake_complete, close_sent, object()

    async def send(self, message):  # stands for uvicorn's bound `send`
        pass


def environ_for(protocol, kind="websocket"):
    return {"asgi.scope": {"type": kind}, "asgi.send": protocol.send}


def test_direct_path_only_for_open_native_websockets():
    transport = FakeTransport()
    assert direct_transport(environ_for(SansIOProtocol(transport))) is transport
    assert direct_transport(None) is None
    assert direct_transport(environ_for(SansIOProtocol(transport), kind="http")) is None
    assert direct_transport(environ_for(SansIOProtocol(transport, handshake_complete=False))) is None
    assert direct_transport(environ_for(SansIOProtocol(transport, close_sent=True))) is None
    assert direct_transport(environ_for(SansIOProtocol(FakeTransport(closing=True)))) is None


def test_other_protocols_fall_back():
    class OtherProtocol:
        transport, handshake_complete, close_sent = FakeTransport(), True, False

        async def send(self, message):
            pass

    assert direct_transport(environ_for(OtherProtocol())) is None  # no sans-I/O connection: python-socketio's path
