"""Fuzzing with hypothesis: random JSON into every REST route and every socket event, and random
packets at the engine. No 5xx, no INTERNAL_ERROR, no traceback or error in the server log, and a
refused request changes nothing stored (the whole database is compared before and after)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect as ws_connect

from server.config import Settings
from tests.conftest import free_port, serve
from tests.figures import record

EXAMPLES = 300
FIELDS = ["name", "email", "phone", "photoUrl", "welcomeMessage", "role", "locale", "custom", "availabilityText",
          "subject", "welcomeMessages", "participants", "access", "notify", "text", "sender", "type", "idempotencyKey",
          "referencedMessageId", "conversationId", "messageId", "beforeMessageId", "afterMessageId", "limit", "asGuest",
          "view", "isTyping", "attributes", "user", "id"]
IDS = st.sampled_from(["alice", "bob", "room", "missing", "", "x" * 300, "é/..", "0", "%00"]) | st.text(max_size=20)
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6),
    max_leaves=20,
)
ROUTES = [
    ("PUT", "/users/{id}"), ("GET", "/users/{id}"), ("GET", "/users/{id}/conversations"), ("GET", "/conversations"),
    ("PUT", "/conversations/{id}"), ("GET", "/conversations/{id}"), ("DELETE", "/conversations/{id}"),
    ("PUT", "/conversations/room/participants/{id}"), ("PATCH", "/conversations/room/participants/{id}"),
    ("DELETE", "/conversations/{id}/participants/bob"), ("GET", "/conversations/{id}/messages"),
    ("POST", "/conversations/{id}/messages"), ("GET", "/conversations/room/messages/{id}"),
    ("PUT", "/conversations/room/messages/{id}"), ("DELETE", "/conversations/room/messages/{id}"),
]
EVENTS = ["conversation:sync", "conversation:join", "conversation:leave", "messages:list", "message:send", "typing",
          "conversation:read", "feed:list", "unreads:list", "no:such:event"]
FUZZ_RATES = {key: "1000000/second" for key in ("messagesPerConnection", "messagesPerUser", "joinsPerConnection",
                                                "connectionsPerAddress", "usersCreatedPerAddress", "restCallsPerApp")}


class Problems(logging.Handler):
    """Every server log record at ERROR, or with a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.found.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Iterator[dict]:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    with serve(Settings(database_url=f"sqlite:///{path}", port=free_port(), log_level="warning")) as live:
        tenant = live.create_app()
        live.update_app(tenant["appId"], **FUZZ_RATES)
        api = httpx.Client(base_url=f"{live.base_url}/v1/{tenant['appId']}", headers={"Authorization": f"Bearer {tenant['secretKey']}"})
        for uid in ("alice", "bob"):
            api.put(f"/users/{uid}", json={"name": uid.title()}).raise_for_status()
        api.put("/conversations/room", json={"participants": ["alice", "bob"]}).raise_for_status()
        api.post("/conversations/room/messages", json=[{"text": "hi", "sender": "alice", "type": "UserMessage"}]).raise_for_status()
        problems = Problems()
        logging.getLogger().addHandler(problems)
        record("fuzz", {"restCases": EXAMPLES, "socketEventCases": EXAMPLES, "rawPacketCases": EXAMPLES})
        try:
            yield {"live": live, "tenant": tenant, "api": api, "db": path, "problems": problems}
        finally:
            logging.getLogger().removeHandler(problems)
            api.close()


def snapshot(path) -> dict[str, list]:
    """Every stored row (the migrations' history aside), read through a connection of our own."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: connection.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()  # noqa: S608 (table names from sqlite)
                for t in tables if t not in ("migratehistory", "sqlite_sequence")}


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])


@FUZZ
@given(route=st.sampled_from(ROUTES), identifier=IDS, body=JSON, query=st.dictionaries(st.sampled_from(
    ["limit", "startingAfter", "lastMessageAfter", "lastMessageBefore", "unreadsOnly"]), st.text(max_size=25), max_size=3))
def test_rest_bodies(target, route, identifier, body, query):
    method, template = route
    before = snapshot(target["db"])
    path = template.replace("{id}", quote(identifier, safe=""))
    response = target["api"].request(method, path, json=body if method in ("PUT", "POST", "PATCH") else None, params=query)
    assert response.status_code < 500, (method, path, body, response.text)
    assert "errorCode" in response.json() or response.status_code == 200
    if response.status_code >= 400:
        assert snapshot(target["db"]) == before, (method, path, body, response.text)
    assert target["problems"].found == []


class Socket:
    """A raw Socket.IO connection (sync), reopened when the server closes it."""

    def __init__(self, base_url: str, app_id: str) -> None:
        self.url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.app_id, self.ws, self.ack = app_id, None, 0

    def open(self) -> None:
        self.ws = ws_connect(self.url, compression=None, max_size=None, legacy=True)
        assert self.ws.recv(timeout=5).startswith("0")
        self.ws.send("40" + json.dumps({"appId": self.app_id, "me": "alice"}))
        assert self.ws.recv(timeout=5).startswith("40")

    def call(self, packet_body: str) -> str | None:
        """Send `42<ack>...`; the ack's text, or None if the server closed the connection."""
        if self.ws is None:
            self.open()
        self.ack += 1
        try:
            self.ws.send(f"42{self.ack}{packet_body}")
            while True:
                text = self.ws.recv(timeout=10)
                if text == "2":
                    self.ws.send("3")
                elif text.startswith(f"43{self.ack}["):
                    return text[len(f"43{self.ack}"):]
        except Exception:  # closed by the server (a protocol violation): a fresh connection next time
            self.ws.close()
            self.ws = None
            return None


@pytest.fixture(scope="module")
def socket(target):
    client = Socket(target["live"].base_url, target["tenant"]["appId"])
    yield client
    if client.ws is not None:
        client.ws.close()


@FUZZ
@given(event=st.sampled_from(EVENTS), payload=JSON, extra=st.lists(JSON, max_size=2))
def test_socket_events(target, socket, event, payload, extra):
    before = snapshot(target["db"])
    answer = socket.call(json.dumps([event, payload, *extra]))
    assert answer is not None, "a well-formed event packet must be answered, not cut off"
    [result] = json.loads(answer)
    if isinstance(result, dict) and "error" in result:
        assert result["error"]["code"] != "INTERNAL_ERROR", (event, payload, result)
        assert snapshot(target["db"]) == before, (event, payload, result)
    assert target["problems"].found == []


@FUZZ
@given(body=st.text(max_size=200) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")))
def test_raw_packets(target, socket, body):
    """Anything after `42<ack>`: answered, or the connection closed with a reason; never a traceback."""
    before = snapshot(target["db"])
    socket.call(body)
    assert snapshot(target["db"]) == before or body.startswith("[")
    assert target["problems"].found == []
