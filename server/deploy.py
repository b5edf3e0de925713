"""`parley cluster`: several `parley serve` processes behind HAProxy, on Redis and PostgreSQL.

The recipe docs/deployment.md describes, run on one machine: N processes on their own ports,
HAProxy (Debian's package) in front with the committed config (deploy/haproxy.cfg.j2), health
checks on `/readyz`, and a rolling restart on SIGHUP (one process at a time: stopped gracefully,
its visitors reconnect to the others, started again, back in rotation once ready).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import jinja2

from server.config import Settings

DEPLOY = pathlib.Path(__file__).resolve().parents[1] / "deploy"
PROXY_TEMPLATE = "haproxy.cfg.j2"


class ClusterError(RuntimeError):
    """The cluster cannot start: what is missing, in words a site owner can act on."""


@dataclasses.dataclass(frozen=True)
class Upstream:
    name: str
    address: str


def render_proxy_config(bind: str, servers: list[Upstream], pidfile: str | None = None, check_interval_ms: int = 1000) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(DEPLOY), undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True)
    return environment.get_template(PROXY_TEMPLATE).render(
        bind=bind, servers=servers, pidfile=pidfile, check_interval_ms=check_interval_ms)


def check_requirements(settings: Settings) -> str:
    """The HAProxy binary; refuses what would not make a working cluster."""
    if not settings.redis_url:
        raise ClusterError("PARLEY_REDIS_URL is not set: processes share guest slots, presence and events through Redis")
    if not settings.database_url.startswith(("postgres://", "postgresql://")):
        raise ClusterError("PARLEY_DATABASE_URL must name a PostgreSQL database: several processes share one store")
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if haproxy is None:
        raise ClusterError("HAProxy is not installed (Debian: apt-get install haproxy)")
    return haproxy


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database the URL names, if it does not exist yet."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


class LocalCluster:
    def __init__(self, settings: Settings, processes: int, port: int, first_port: int) -> None:
        self.settings = settings
        self.haproxy = check_requirements(settings)
        self.ports = [first_port + i for i in range(processes)]
        self.port = port
        trusted = ",".join(filter(None, [os.environ.get("PARLEY_TRUSTED_PROXIES"), "127.0.0.1/32"]))
        self.env = {**os.environ, "PARLEY_TRUSTED_PROXIES": trusted,
                    "PARLEY_PUBLIC_URL": settings.public_url or f"http://{settings.host}:{port}"}
        self.children: dict[int, subprocess.Popen] = {}
        self.proxy: subprocess.Popen | None = None
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="parley-cluster-"))
        self._restart_requested = False
        self._stopping = False

    def start(self) -> None:
        # the schema and the demo app, once, before several processes start at the same time
        subprocess.run([sys.executable, "-m", "server", "demo"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        for port in self.ports:
            self._start_process(port)
        config = self.workdir / "haproxy.cfg"
        servers = [Upstream(f"parley{i + 1}", f"127.0.0.1:{p}") for i, p in enumerate(self.ports)]
        config.write_text(render_proxy_config(f"{self.settings.host}:{self.port}", servers))
        subprocess.run([self.haproxy, "-c", "-q", "-f", str(config)], check=True)
        self.proxy = proxy = subprocess.Popen([self.haproxy, "-f", str(config), "-db"])
        _wait_until(lambda: proxy.poll() is not None or _answers(f"http://{self.settings.host}:{self.port}/readyz"), 20,
                    "HAProxy did not start")
        if proxy.poll() is not None:
            raise ClusterError(f"HAProxy exited with code {proxy.returncode} (its messages are above)")

    def _start_process(self, port: int) -> None:
        child = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], env=self.env)
        self.children[port] = child
        _wait_until(lambda: child.poll() is not None or _answers(f"http://127.0.0.1:{port}/readyz"), 60,
                    f"parley serve on port {port} did not become ready")
        if child.poll() is not None:
            raise ClusterError(f"parley serve on port {port} exited with code {child.returncode}")

    def rolling_restart(self) -> None:
        """One process at a time, so the others carry its visitors meanwhile."""
        for port in self.ports:
            print(f"parley cluster: restarting the process on port {port}", flush=True)
            self._stop_process(port)
            self._start_process(port)
        print("parley cluster: rolling restart done", flush=True)

    def _stop_process(self, port: int) -> None:
        _end(self.children[port], 30)
        del self.children[port]

    def handle_signals(self) -> None:
        """Before anything starts: SIGTERM during start-up stops what has started, SIGHUP waits its turn."""
        def terminate(*_: object) -> None:
            if self.proxy is None:  # still starting: unwind through start()'s caller, which stops the rest
                raise KeyboardInterrupt
            self._stopping = True

        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "_restart_requested", True))
        signal.signal(signal.SIGTERM, terminate)

    def serve_forever(self) -> int:
        try:
            while not self._stopping:
                if self._restart_requested:
                    self._restart_requested = False
                    self._supervised(self.rolling_restart)
                for port, child in list(self.children.items()):
                    if child.poll() is not None:  # died (kill -9, a crash): a supervisor starts it again
                        print(f"parley cluster: the process on port {port} exited ({child.returncode}); starting it again",
                              flush=True)
                        del self.children[port]
                        self._supervised(lambda port=port: self._start_process(port))
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        return 0

    def _supervised(self, action) -> None:
        """A failed (re)start is reported and tried again on the next round, not the end of the cluster."""
        try:
            action()
        except (ClusterError, OSError) as error:
            print(f"parley cluster: {error}; trying again in 2 s", flush=True)
            time.sleep(2)

    def stop(self) -> None:
        if self.proxy is not None:
            _end(self.proxy, 10)
            self.proxy = None
        for port in list(self.children):
            self._stop_process(port)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _end(process: subprocess.Popen, seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(condition, seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise ClusterError(failure)
        time.sleep(0.1)
