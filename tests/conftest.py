"""Fixtures: every test gets a fresh app on a temporary SQLite database, served by a real uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import pathlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from server.app import ParleyApp, create_app
from server.chat import apps
from server.config import Settings
from server.serving import uvicorn_config
from tests.services import postgres_available, postgres_databases, postgres_url, private_redis, redis_url  # noqa: F401 (fixtures)


def pytest_configure(config: pytest.Config) -> None:
    from tests import traffic

    traffic.install()  # what the servers send, for the protocol docs' payload check


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The payload check compares the docs with the traffic the whole session recorded: it runs last, and
    says that a documented key was never sent only when every test module ran."""
    from tests import traffic

    last = [item for item in items if item.name == "test_payloads_match_the_traffic_of_the_suite"]
    items[:] = [item for item in items if item not in last] + last
    modules = {pathlib.Path(str(item.fspath)).resolve() for item in items}
    every = set(pathlib.Path(__file__).resolve().parent.rglob("test_*.py"))
    traffic.whole_suite = every <= modules


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class LiveServer:
    app: ParleyApp
    base_url: str

    def create_app(self, name: str = "Test app", app_id: str | None = None) -> dict[str, Any]:
        """A new tenant app, straight through the use case (there is no REST endpoint for apps)."""
        return self.app.chat.db.write_blocking(apps._create_app, name, app_id)[0]

    def update_app(self, app_id: str, **settings: Any) -> None:
        changes = apps.parse_settings({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()})
        self.app.chat.db.write_blocking(apps._update_settings, app_id, changes)
        self.app.chat.forget_app(app_id)  # as the dashboard does; another process's change takes effect within 2 s


class JoinHold:
    """Holds joins of one conversation right after they read what they answer, until released
    (ChatContext.after_join_read): a message sent meanwhile is stored after the join's read but
    reaches the joining socket live before the join's answer."""

    def __init__(self, server: LiveServer, conversation_id: str) -> None:
        self.reached = threading.Event()
        self._released = threading.Event()

        async def hook(joined: str) -> None:
            if joined == conversation_id and not self._released.is_set():
                self.reached.set()
                await asyncio.to_thread(self._released.wait, 20)

        server.app.chat.after_join_read = hook

    def wait(self, timeout: float = 10) -> None:
        assert self.reached.wait(timeout), "no join reached the hold"

    def release(self) -> None:
        self._released.set()


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[LiveServer]:
    """Run the app under uvicorn on its own thread and event loop until the block ends."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", settings.port, "warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(app, f"http://127.0.0.1:{settings.port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/parley.db", port=free_port(), log_level="warning")


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with serve(settings) as live:
        yield live


@pytest.fixture
def tenant(server: LiveServer) -> dict[str, Any]:
    """A fresh app: `{appId, secretKey, ...}`."""
    return server.create_app()


@pytest.fixture
def api(server: LiveServer, tenant: dict[str, Any]) -> Iterator[httpx.Client]:
    """An HTTP client for the tenant's REST API: paths are relative to /v1/{appId}/."""
    headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
    with httpx.Client(base_url=f"{server.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10) as client:
        yield client


GROUP = {
    "123456": {"name": "Alice", "email": ["alice@example.com"]},
    "654321": {"name": "Sebastian"},
    "456789": {"name": "Steve"},
}


@pytest.fixture
def group(api: httpx.Client) -> str:
    """Alice, Sebastian and Steve in conversation `group`, the documentation's example."""
    for user_id, user in GROUP.items():
        assert api.put(f"users/{user_id}", json=user).status_code == 200
    body = {"participants": list(GROUP), "subject": "Hello", "photoUrl": "https://example.com/group.png"}
    assert api.put("conversations/group", json=body).status_code == 200
    return "group"


@pytest.fixture(autouse=True)
def _unclosed_things_are_reported_against_their_own_test():
    """A socket or transport a test leaves open is collected (and, warnings being errors, reported) at the
    end of that test, not in whichever later test the garbage collector happens to run."""
    yield
    import gc

    gc.collect()
