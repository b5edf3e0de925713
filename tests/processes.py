"""Real `parley serve` processes for tests: started as Parley runs in production, stopped or killed."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import free_port

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parley(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "server", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


class ParleyProcess:
    def __init__(self, database: pathlib.Path | str, **env: str) -> None:
        """`database`: a SQLite file, or a database URL (PostgreSQL for several processes)."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        self.env = {**os.environ, "PARLEY_DATABASE_URL": url, "PARLEY_LOG_LEVEL": "warning", **env}
        self.process: subprocess.Popen | None = None
        self.stderr: list[str] = []

    def create_app(self, name: str = "Test") -> dict:
        return json.loads(parley("app", "create", "--name", name, env=self.env))

    def set_app(self, app_id: str, **settings: str) -> None:
        parley("app", "set", app_id, *(f"{k}={v}" for k, v in settings.items()), env=self.env)

    def start(self) -> ParleyProcess:
        self.process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(self.port)], env=self.env,
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.base_url}/healthz", timeout=1)
                return self
            except httpx.HTTPError:
                assert self.process.poll() is None and time.monotonic() < deadline, "parley serve did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, nothing graceful."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        _, stderr = self.process.communicate(timeout=10)
        self.stderr.append(stderr)
        self.process = None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM: a graceful shutdown, which must end within `timeout` seconds."""
        if self.process is None:
            return
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=timeout)
        self.stderr.append(stderr)
        self.process = None

    def tracebacks(self) -> list[str]:
        return [text for text in self.stderr if "Traceback" in text]
