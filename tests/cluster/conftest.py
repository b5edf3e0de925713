"""Several real `parley serve` processes sharing the machine's PostgreSQL and Redis (each test its own
database and Redis database number), as a deployment runs them; skipped when either is unreachable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.processes import ParleyProcess


ADMIN_PASSWORD = "cluster-admin-password"


class Cluster:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.processes: list[ParleyProcess] = []

    def start(self, count: int = 2, **env: str) -> list[ParleyProcess]:
        """Started one after another (the first applies the migrations)."""
        env = {"PARLEY_REDIS_URL": self.redis_url, "PARLEY_ADMIN_PASSWORD": ADMIN_PASSWORD, **env}
        started = [ParleyProcess(self.database_url, **env).start() for _ in range(count)]
        self.processes += started
        return started

    def close(self) -> None:
        for process in self.processes:
            if process.process is not None:
                process.kill()


@pytest.fixture
def cluster(postgres_url: str, redis_url: str) -> Iterator[Cluster]:
    running = Cluster(postgres_url, redis_url)
    yield running
    running.close()


def rest(process: ParleyProcess, tenant: dict[str, Any]) -> httpx.Client:
    headers = {"Authorization": f"Bearer {tenant['secretKey']}"}
    return httpx.Client(base_url=f"{process.base_url}/v1/{tenant['appId']}/", headers=headers, timeout=10)


def live_figures(process: ParleyProcess, app_id: str) -> dict[str, Any]:
    """The dashboard's live tab as a site owner sees it: connected sessions and guests per conversation."""
    with httpx.Client(base_url=process.base_url, timeout=10) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/login").text)[1]
        assert client.post("/dashboard/login", data={"csrf": token, "password": ADMIN_PASSWORD}).status_code == 303
        page = client.get(f"/dashboard/apps/{app_id}?tab=live").text
    connections = int(re.search(r'id="live-connections">(\d+)<', page)[1])
    rows = re.findall(r'conversation\?id=[^"]*">([^<]+)</a></td><td class="guest-count">(\d+)<', page)
    return {"connections": connections, "guests": {name: int(count) for name, count in rows}}

