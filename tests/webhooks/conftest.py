"""Webhook tests: a real HTTP receiver on 127.0.0.1 that verifies each request's signature the way
docs/webhooks.md shows a receiver doing it, and records what arrived."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from server.config import Settings
from tests.conftest import LiveServer, free_port


def verify(secret_key: str, timestamp: str, body: bytes, signature: str) -> bool:
    """The receiver's check, as in docs/webhooks.md (Python)."""
    expected = hmac.new(secret_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest().upper()
    return hmac.compare_digest(expected, signature)


class Receiver:
    def __init__(self) -> None:
        self.secret_key = ""
        self.events: list[dict[str, Any]] = []  # verified bodies, in arrival order
        self.requests: list[tuple[float, bool, dict]] = []  # (when, signature valid, headers) of every request
        self.statuses: list[int] = []  # answers to give, first to last; then 200
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                valid = verify(receiver.secret_key, self.headers["X-TalkJS-Timestamp"], body, self.headers["X-TalkJS-Signature"])
                receiver.requests.append((time.monotonic(), valid, dict(self.headers)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if valid and status == 200:
                    receiver.events.append(json.loads(body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/parley"

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def wait_for(self, predicate, timeout: float = 15, what: str = "the events") -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events):
                return self.events
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; got {[e['type'] for e in self.events]}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.httpd.serve_forever, daemon=True)
    thread.start()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/parley.db", port=free_port(), log_level="warning",
                    webhook_allow_private=True, webhook_retry_seconds=1)


@pytest.fixture
def tenant(server: LiveServer, receiver: Receiver) -> dict[str, Any]:
    app = server.create_app("Acme Market")
    server.update_app(app["appId"], webhookUrl=receiver.url, webhookEvents="*", webhookAllowHttp=True)
    receiver.secret_key = app["secretKey"]
    return app
