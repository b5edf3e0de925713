"""The machine's PostgreSQL and Redis for tests: skipped with the reason when unreachable, failed when
`CI` is set (CI must run them). Throwaway PostgreSQL databases and Redis database numbers per test."""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

PG_HOST, PG_PORT, PG_USER, PG_ADMIN_DB = "127.0.0.1", 5432, "postgres", "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis databases handed to tests in turn, each emptied first (15 is the rate-limit tests' own).
_REDIS_DATABASES = itertools.cycle(range(1, 15))


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run these tests", pytrace=False)
    pytest.skip(reason)


def pg_admin() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_available() -> None:
    """Skip (or, under CI, fail) when no PostgreSQL server is reachable."""
    try:
        with pg_admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())
        unavailable(f"PostgreSQL is not reachable at {PG_USER}@{PG_HOST}:{PG_PORT} (trust auth): {detail}")


@pytest.fixture
def postgres_databases(postgres_available: None) -> Iterator[Callable[[], str]]:
    """A factory of throwaway PostgreSQL databases (URLs); every one is dropped afterwards."""
    created: list[str] = []

    def create() -> str:
        name = f"parley_test_{uuid.uuid4().hex[:16]}"
        with pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"

    yield create
    with pg_admin() as conn:
        for name in created:
            # WITH (FORCE) terminates connections a failed test may have left open (PG >= 13)
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_databases: Callable[[], str]) -> str:
    """`postgresql://postgres@127.0.0.1:5432/parley_test_<hex>`, a fresh empty database."""
    return postgres_databases()


def redis_reachable() -> None:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1).close()
    except OSError:
        unavailable(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT}")


@pytest.fixture
def redis_url() -> str:
    """A Redis database of its own for this test, emptied first."""
    import redis

    redis_reachable()
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{next(_REDIS_DATABASES)}"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


class PrivateRedis:
    """A redis-server of the test's own on a free port (Debian's package), to stop and start at will."""

    def __init__(self, port: int) -> None:
        import shutil

        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
        self.binary, self.port = binary, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    def start(self) -> PrivateRedis:
        import subprocess
        import time

        self.process = subprocess.Popen([self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis of this test's own, on a free port, that the test may kill and start again."""
    from tests.conftest import free_port

    redis = PrivateRedis(free_port()).start()
    yield redis
    redis.kill()
