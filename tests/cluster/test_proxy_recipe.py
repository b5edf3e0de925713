"""The deployment recipe itself: `parley cluster` (two processes behind HAProxy from Debian's package, with
the committed config) carries websocket traffic; kill -9 of one process sends its visitors through the
proxy to the other, where they catch up with nothing lost; its guest slots lapse with its lease."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest

from server import deploy
from tests.cluster.catching_up import CatchingUpGuest
from tests.cluster.conftest import ADMIN_PASSWORD, live_figures
from tests.processes import ROOT, ParleyProcess
from tests.services import unavailable

GUESTS = 20
MESSAGES = 60


@pytest.fixture
def haproxy() -> None:
    if not (shutil.which("haproxy") or os.path.exists("/usr/sbin/haproxy")):
        unavailable("HAProxy is not installed (Debian: apt-get install haproxy)")


def test_the_committed_proxy_config_is_valid(haproxy, tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text(deploy.render_proxy_config("127.0.0.1:8000", [deploy.Upstream("parley1", "127.0.0.1:8001")]))
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    printed = subprocess.run([sys.executable, "-m", "server", "cluster", "--print-proxy-config", "--port", "9000"],
                             capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PARLEY_PORT": "9000"})
    assert "bind 127.0.0.1:9000" in printed.stdout and "server parley2 127.0.0.1:9002 check" in printed.stdout


class RunningCluster:
    def __init__(self, postgres_url: str, redis_url: str) -> None:
        self.port = _free_ports(3)  # the proxy, then the two processes
        self.first = self.port + 1
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**ParleyProcess(postgres_url).env, "PARLEY_REDIS_URL": redis_url, "PARLEY_NODE_LEASE_SECONDS": "3",
                    "PARLEY_ADMIN_PASSWORD": ADMIN_PASSWORD}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "cluster", "--port", str(self.port), "--first-port", str(self.first)],
            env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not _ready(f"{self.url}/readyz"):
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "parley cluster did not start"
            time.sleep(0.1)

    def pid_on(self, port: int) -> int:
        return int(httpx.get(f"http://127.0.0.1:{port}/healthz").json()["cluster"]["node"].split(":")[1])

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stderr


def _free_ports(count: int) -> int:
    """The first of `count` consecutive ports that can be bound now, below Linux's ephemeral range (32768+),
    so that no outgoing connection takes one before the processes bind it."""
    import random
    import socket

    while True:
        first = random.randrange(20_000, 32_000)
        probes = [socket.socket() for _ in range(count)]
        try:
            for offset, probe in enumerate(probes):
                probe.bind(("127.0.0.1", first + offset))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _restarted(cluster: RunningCluster, port: int, old_pid: int) -> bool:
    try:
        return _ready(f"http://127.0.0.1:{port}/readyz") and cluster.pid_on(port) != old_pid
    except httpx.HTTPError:  # between stopping and starting
        return False


async def _lobby_with_guests(cluster: RunningCluster) -> tuple[dict, httpx.AsyncClient, list[CatchingUpGuest]]:
    tenant = json.loads(subprocess.run([sys.executable, "-m", "server", "app", "create", "--name", "Cluster"],
                                       env=cluster.env, cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    subprocess.run([sys.executable, "-m", "server", "app", "set", tenant["appId"], "guestLimit=100",
                    "connectionsPerAddress=10000/minute", "usersCreatedPerAddress=10000/minute"],
                   env=cluster.env, cwd=ROOT, check=True, capture_output=True)
    api = httpx.AsyncClient(base_url=f"{cluster.url}/v1/{tenant['appId']}/",
                            headers={"Authorization": f"Bearer {tenant['secretKey']}"}, timeout=10)
    assert (await api.put("conversations/lobby", json={"participants": []})).status_code == 200
    guests = [await CatchingUpGuest("lobby").connect(cluster.url, {"appId": tenant["appId"], "me": {"id": f"g{i}", "name": "G"}})
              for i in range(GUESTS)]
    return tenant, api, guests


async def _post(api: httpx.AsyncClient, i: int, sent: list[str]) -> None:
    body = [{"text": f"m{i}", "type": "SystemMessage", "idempotencyKey": f"m{i}"}]
    for _ in range(100):  # a request a stopping or dying process took is sent again: stored once by its key
        try:
            if (await api.post("conversations/lobby/messages", json=body)).status_code == 200:
                sent.append(f"m{i}")
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"m{i} was never accepted")


async def _everyone_has_everything(api: httpx.AsyncClient, guests: list[CatchingUpGuest], sent: list[str]) -> None:
    stored = (await api.get("conversations/lobby/messages", params={"limit": 100})).json()["data"]
    assert sorted(m["text"] for m in stored) == sorted(sent) and len(stored) == MESSAGES  # each stored once
    stored_ids = {m["id"] for m in stored}
    deadline = time.monotonic() + 20
    while any(set(g.ids) != stored_ids for g in guests):
        assert time.monotonic() < deadline, [len(g.ids) for g in guests]
        await asyncio.sleep(0.1)
    assert all(len(g.ids) == MESSAGES for g in guests)  # shown once each


async def _guests_counted(cluster: RunningCluster, tenant: dict, within: float) -> None:
    """The dashboard, through the proxy, counts each guest once."""
    through_proxy = type("Proxy", (), {"base_url": cluster.url})
    deadline = time.monotonic() + within
    while (await asyncio.to_thread(live_figures, through_proxy, tenant["appId"]))["guests"].get("lobby") != GUESTS:
        assert time.monotonic() < deadline, "guest slots were not given back"
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _running_lobby(postgres_url: str, redis_url: str):
    """`parley cluster` with a lobby of guests; everything closed after, and the cluster must exit cleanly."""
    cluster = RunningCluster(postgres_url, redis_url)
    try:
        tenant, api, guests = await _lobby_with_guests(cluster)
        try:
            yield cluster, tenant, api, guests
        finally:
            for guest in guests:
                await guest.close()
            await api.aclose()
    finally:
        code, stderr = cluster.stop()
    assert code == 0, stderr


async def _send_all(api: httpx.AsyncClient, disturb_at: int, disturb, pause: float) -> list[str]:
    """MESSAGES messages over REST through the proxy, `disturb()` before message `disturb_at`."""
    sent: list[str] = []
    for i in range(MESSAGES):
        if i == disturb_at:
            disturb()
        await _post(api, i, sent)
        await asyncio.sleep(pause)
    return sent


async def test_kill_9_behind_the_proxy_loses_nothing(haproxy, postgres_url, redis_url):
    async with _running_lobby(postgres_url, redis_url) as (cluster, tenant, api, guests):
        victim = cluster.pid_on(cluster.first)
        sent = await _send_all(api, MESSAGES // 3, lambda: os.kill(victim, signal.SIGKILL), 0.05)
        await _everyone_has_everything(api, guests, sent)
        assert sum(g.connects > 1 for g in guests) > 0  # those the proxy had put on it came back through it
        await _guests_counted(cluster, tenant, within=3 + 1 + 5)  # its slots lapse with its lease


async def test_a_rolling_restart_behind_the_proxy_loses_nothing(haproxy, postgres_url, redis_url):
    """SIGHUP to `parley cluster`: each process in turn stops gracefully and starts again; every visitor
    moves at least once and ends with every message, once."""
    async with _running_lobby(postgres_url, redis_url) as (cluster, tenant, api, guests):
        before = {port: cluster.pid_on(port) for port in (cluster.first, cluster.first + 1)}
        sent = await _send_all(api, 5, lambda: cluster.process.send_signal(signal.SIGHUP), 0.1)
        deadline = time.monotonic() + 60
        while not all(_restarted(cluster, port, pid) for port, pid in before.items()):
            assert time.monotonic() < deadline, "the rolling restart did not finish"
            await asyncio.sleep(0.2)
        await _everyone_has_everything(api, guests, sent)
        assert all(g.connects > 1 for g in guests)  # everyone was on a process that restarted
        await _guests_counted(cluster, tenant, within=5)  # given back at once by each stopping process


def test_the_deployment_docs_show_the_committed_files():
    docs = (ROOT / "docs/deployment.md").read_text()
    proxy_block = docs.split("The HAProxy config (`deploy/haproxy.cfg.j2`, rendered):\n\n```\n", 1)[1].split("```", 1)[0]
    servers = [deploy.Upstream("parley1", "127.0.0.1:8001"), deploy.Upstream("parley2", "127.0.0.1:8002")]
    rendered = deploy.render_proxy_config("127.0.0.1:8000", servers)
    assert proxy_block.strip() in rendered, "docs/deployment.md shows a different HAProxy config than deploy/"
    unit_block = docs.split("```ini\n", 1)[1].split("```", 1)[0]
    unit = (ROOT / "deploy/parley@.service").read_text().split("\n", 1)[1]  # after its comment line
    assert unit_block == unit, "docs/deployment.md shows a different systemd unit than deploy/parley@.service"
