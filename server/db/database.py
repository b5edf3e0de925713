"""The database: opening it from a URL, migrating it, and running queries off the event loop.

peewee is synchronous, so every query runs in a worker thread. Writes go through one writer
thread with group commit (db/writer.py: on SQLite a single writer avoids lock contention; a
write commits before the caller's `await` returns, which is what lets callers publish events
only after commit). Reads use a few reader threads; with WAL they never wait for the writer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import pathlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import peewee
from playhouse import db_url
from playhouse.migrations import Runner

from server.db.models import database_proxy
from server.db.writer import GroupCommitWriter

T = TypeVar("T")
log = logging.getLogger(__name__)

MIGRATIONS_DIR = pathlib.Path(__file__).with_name("migrations")
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 5000,
    "cache_size": -16_000,  # 16 MB page cache per connection
}
POSTGRES_SCHEMES = ("postgres", "postgresql")


class DatabaseURLError(ValueError):
    """PARLEY_DATABASE_URL names a database Parley cannot open."""


def open_database(url: str, sqlite_synchronous: str = "normal") -> peewee.Database:
    """Build (without connecting) the peewee database a URL names."""
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        return _open_sqlite(url, sqlite_synchronous)
    if scheme in POSTGRES_SCHEMES:
        return db_url.connect(url, prefer_psycopg3=True)
    raise DatabaseURLError(
        f"unsupported database URL {url!r}: use sqlite:///relative/file.db, sqlite:////absolute/file.db "
        "or postgresql://user@host/dbname"
    )


def _open_sqlite(url: str, synchronous: str = "normal") -> peewee.SqliteDatabase:
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path:
        raise DatabaseURLError(f"SQLite URLs take three slashes and a file path, got {url!r}")
    if path == ":memory:" or "mode=memory" in path:
        # every worker thread would open its own, empty, in-memory database
        raise DatabaseURLError("in-memory SQLite is not supported: use a file (tests use a temporary one)")
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    return peewee.SqliteDatabase(path, pragmas={**SQLITE_PRAGMAS, "synchronous": synchronous}, autoconnect=True)


def migrate(database: peewee.Database) -> list[str]:
    """Apply pending versioned migrations; returns the names applied."""
    with database.connection_context():
        return Runner(database, str(MIGRATIONS_DIR)).up()


class Database:
    """The running database: worker threads, each holding its own connection."""

    def __init__(self, url: str, readers: int = 3, sqlite_synchronous: str = "normal") -> None:
        self.url = url
        self.peewee = open_database(url, sqlite_synchronous)
        self.is_sqlite = isinstance(self.peewee, peewee.SqliteDatabase)
        self._writer = GroupCommitWriter(self.peewee, "parley-db-write")
        self._readers = [_worker(f"parley-db-read-{i}") for i in range(readers)]
        self._next_reader = itertools.cycle(self._readers)
        self._closed = False

    def start(self) -> list[str]:
        """Bind the models to this database and bring its schema up to date."""
        database_proxy.initialize(self.peewee)
        applied = migrate(self.peewee)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied

    async def write(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` in a transaction (or a savepoint of one) on the writer thread; returns after commit."""
        return await self._writer.write(fn, *args)

    async def ping(self) -> bool:
        """Whether the database answers a query now (readiness)."""
        try:
            await self.read(lambda: self.peewee.execute_sql("SELECT 1").fetchone())
        except Exception as error:  # any driver's "cannot connect" or "connection lost"
            log.warning("database unreachable: %s", error)
            return False
        return True

    async def read(self, fn: Callable[..., T], *args: object) -> T:
        """Run a read-only `fn(*args)` on a reader thread."""
        return await self._run(next(self._next_reader), self._call, fn, args)

    def write_blocking(self, fn: Callable[..., T], *args: object) -> T:
        """`write` for callers outside any event loop (tests' setup, scripts)."""
        return self._writer.write_blocking(fn, *args)

    @property
    def write_counts(self) -> tuple[int, int]:
        """(transactions run, writes run): group commit shows as fewer transactions than writes."""
        return self._writer.batches, self._writer.jobs

    def read_blocking(self, fn: Callable[..., T], *args: object) -> T:
        """`read` for callers outside any event loop (benchmarks, scripts)."""
        return next(self._next_reader).submit(self._call, fn, args).result()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.write_blocking(self._close_connection, transactional=False)
        self._writer.stop()
        for worker in self._readers:
            worker.submit(self._close_connection).result()
            worker.shutdown(wait=True)

    async def _run(self, worker: ThreadPoolExecutor, call: Callable[..., T], fn, args) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(worker, call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple) -> T:
        self.peewee.connect(reuse_if_open=True)
        return fn(*args)

    def _close_connection(self) -> None:
        if not self.peewee.is_closed():
            self.peewee.close()


def _worker(name: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
