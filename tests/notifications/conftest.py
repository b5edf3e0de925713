"""Notification tests: a real SMTP server (aiosmtpd) receiving Parley's email, a real HTTP
receiver standing in for an SMS gateway, and Parley's own inbound SMTP listener for replies."""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from server.chat import lookup
from server.chat import outbox as chat_outbox
from server.config import Settings
from server.notify.targets import SmtpTarget
from tests.conftest import LiveServer, free_port

QUIET_SECONDS = 1  # the apps' quiet period in these tests (the default is 60 s)


class Inbox:
    """What the test SMTP server received: parsed messages with their envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP answer to RCPT
        self._changed = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's names)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append((list(envelope.rcpt_tos), message))
            self._changed.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def wait_for(self, count: int, address: str | None = None, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = self.to(address) if address else [m for _, m in self.messages]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} emails{f' to {address}' if address else ''}, got {len(got)}"
                self._changed.wait(left)


class SmtpServer:
    """aiosmtpd on 127.0.0.1, which a test may stop (SMTP down) and start again on the same port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class SmsGateway:
    """An HTTP receiver recording the JSON Parley posts; `status` is what it answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if gateway.status == 200:
                    gateway.received.append(json.loads(body))
                self.send_response(gateway.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def wait_for(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        return wait_until(lambda: self.received if len(self.received) >= count else None, timeout, f"{count} SMS")


@pytest.fixture
def sms() -> Iterator[SmsGateway]:
    gateway = SmsGateway()
    gateway.thread.start()
    yield gateway
    gateway.httpd.shutdown()
    gateway.httpd.server_close()


def wait_until(probe: Callable[[], Any], timeout: float = 15, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def settings(tmp_path, smtp: SmtpServer, sms: SmsGateway) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/parley.db",
        port=free_port(),
        log_level="warning",
        smtp=SmtpTarget("127.0.0.1", smtp.port, use_tls=False),
        inbound_smtp=("127.0.0.1", free_port()),
        reply_domain="replies.parley.test",
        sms_webhook_url=sms.url,
        notification_retry_seconds=1,
    )


@pytest.fixture
def tenant(server: LiveServer) -> dict[str, Any]:
    app = server.create_app("Acme Market")
    server.update_app(app["appId"], notificationDelay=QUIET_SECONDS, notificationLink="https://shop.example.com/chat/{conversationId}")
    return app


def outbox(server: LiveServer, app_id: str) -> list[dict[str, Any]]:
    """The app's notifications as the dashboard lists them, newest first."""
    app = server.app.chat.db.read_blocking(lookup.find_app, app_id)
    return server.app.chat.db.read_blocking(chat_outbox._recent, app, 100)


def settled(server: LiveServer, app_id: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """Wait until `count` notifications have ended (sent, skipped or failed); returns them all."""

    def done() -> list[dict[str, Any]] | None:
        rows = outbox(server, app_id)
        finished = [r for r in rows if r["status"] in ("sent", "skipped", "failed")]
        return rows if len(finished) >= count else None

    return wait_until(done, timeout, f"{count} finished notifications")


@contextlib.contextmanager
def rest(server: LiveServer, tenant: dict[str, Any]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
    with httpx.Client(base_url=f"{server.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10) as client:
        yield client
