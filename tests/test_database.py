"""The database layer: URLs, migrations, schema agreement, threading, and SQLite/PostgreSQL parity.

PostgreSQL tests need a server at 127.0.0.1:5432 accepting user `postgres` without a password
(trust auth). Without one they are skipped, unless the `CI` environment variable is set, in which
case they fail: CI must exercise both backends.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import pathlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import peewee
import psycopg
import pytest

from server.chat import apps, conversations, lookup, messages, users
from server.chat.context import ChatContext
from server.chat.errors import Forbidden
from server.chat.events import Event
from server.db import queries
from server.db.database import SQLITE_PRAGMAS, Database, DatabaseURLError, open_database
from server.db.models import MODELS, App, Conversation, Message, User
from tests.services import PG_HOST, pg_admin

MIGRATION_TABLE = "schema_migration"
ALL_MIGRATIONS = ["0001_initial", "0002_settings", "0003_rate_limits", "0004_notifications", "0005_webhooks"]


@pytest.fixture(params=["sqlite", "postgres"])
def new_url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Callable[[], str]:
    """A factory of URLs of fresh, empty databases on the backend under test."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_databases")
    counter = itertools.count(1)
    return lambda: f"sqlite:///{tmp_path}/db{next(counter)}/parley.db"


@pytest.fixture
def database_url(new_url: Callable[[], str]) -> str:
    return new_url()


@pytest.fixture
def databases() -> Iterator[Callable[[str], Database]]:
    """Opens `Database`s and closes (threads, connections) every one still open when the test ends,
    even a failed one. Tests close early with `databases.close(db)`, never `db.close()` directly:
    `Database.close()` raises if called twice.
    """
    opened: list[Database] = []
    closed: set[int] = set()

    def open_(url: str) -> Database:
        db = Database(url)
        opened.append(db)
        return db

    def close(db: Database) -> None:
        if id(db) not in closed:
            closed.add(id(db))
            db.close()

    open_.close = close  # type: ignore[attr-defined]
    yield open_
    for db in opened:
        close(db)


@pytest.fixture
def db(databases, database_url: str) -> Database:
    """A started (migrated) database on the backend under test."""
    database = databases(database_url)
    assert database.start() == ALL_MIGRATIONS
    return database


# --------------------------------------------------------------------------------------------
# 1. SQLite: URLs, migrations, pragmas


def test_sqlite_start_migrates_once_and_creates_parent_directory(databases, tmp_path: pathlib.Path):
    path = tmp_path / "does" / "not" / "exist" / "parley.db"
    url = f"sqlite:///{path}"

    first = databases(url)
    assert path.parent.is_dir()  # created when the URL is opened, before any connection
    assert first.start() == ALL_MIGRATIONS
    assert path.is_file()
    databases.close(first)

    second = databases(url)
    assert second.start() == []  # nothing pending on the same file
    tables = second.peewee.get_tables()
    assert {MIGRATION_TABLE, *(m._meta.table_name for m in MODELS)} <= set(tables)
    databases.close(second)


async def test_sqlite_pragmas_on_every_worker_connection(databases, tmp_path: pathlib.Path):
    db = databases(f"sqlite:///{tmp_path}/parley.db")
    db.start()

    def pragmas() -> tuple[str, int, str]:
        execute = db.peewee.execute_sql
        return (
            execute("pragma journal_mode").fetchone()[0],
            execute("pragma foreign_keys").fetchone()[0],
            threading.current_thread().name,
        )

    readers = [await db.read(pragmas) for _ in range(len(db._readers))]
    writer = await db.write(pragmas)
    for journal_mode, foreign_keys, thread in [*readers, writer]:
        assert (journal_mode, foreign_keys) == ("wal", 1), thread
    assert {r[2] for r in readers} == {f"parley-db-read-{i}_0" for i in range(len(db._readers))}
    databases.close(db)


async def test_sqlite_foreign_keys_are_enforced(databases, tmp_path: pathlib.Path):
    db = databases(f"sqlite:///{tmp_path}/parley.db")
    db.start()
    with pytest.raises(peewee.IntegrityError):
        await db.write(lambda: Conversation.create(app=12345, conversation_id="orphan", created_at=0))
    databases.close(db)


@pytest.mark.parametrize(
    "url",
    ["mysql://x/y", "sqlite://relative-with-two-slashes", "sqlite:relative", "sqlite:///", "parley.db"],
)
def test_bad_urls_raise_database_url_error(url: str):
    with pytest.raises(DatabaseURLError):
        Database(url)  # raises before any worker thread exists: nothing to close
    with pytest.raises(DatabaseURLError):
        open_database(url)


# --------------------------------------------------------------------------------------------
# 2. Schema agreement: migrations build exactly what the models describe


def _expected_indexes(model: type[peewee.Model]) -> list[tuple[tuple[str, ...], bool]]:
    meta = model._meta
    expected = [
        ((f.column_name,), bool(f.unique))
        for f in meta.sorted_fields
        if not f.primary_key and (f.index or f.unique)
    ]
    for index in meta.indexes:
        assert isinstance(index, (tuple, list)), f"{model.__name__}: extend this test for {index!r}"
        names, unique = index
        expected.append((tuple(meta.fields[name].column_name for name in names), bool(unique)))
    return sorted(expected)


def _actual_indexes(database: peewee.Database, table: str) -> list[tuple[tuple[str, ...], bool]]:
    primary_key = tuple(database.get_primary_keys(table))
    return sorted(
        (tuple(index.columns), bool(index.unique))
        for index in database.get_indexes(table)
        if not (index.unique and tuple(index.columns) == primary_key)  # PostgreSQL's <table>_pkey
    )


def _introspect(database: peewee.Database) -> dict[str, Any]:
    """Everything about the models' tables that a migration must get right, backend-native."""
    schema: dict[str, Any] = {}
    for model in MODELS:
        table = model._meta.table_name
        schema[table] = {
            "columns": [c._replace(table=None) for c in database.get_columns(table)],
            "indexes": sorted((i.name, tuple(i.columns), i.unique) for i in database.get_indexes(table)),
            "foreign_keys": sorted(
                (fk.column, fk.dest_table, fk.dest_column, fk.on_delete, fk.on_update)
                for fk in database.get_foreign_keys(table)
            ),
        }
    return schema


async def test_migrations_match_models(db: Database, new_url: Callable[[], str]):
    """A model change without a migration (or a migration without the model change) fails here."""
    # sqlite_sequence is SQLite's own bookkeeping for AUTOINCREMENT (message seqs are never reused)
    tables = set(await db.read(db.peewee.get_tables)) - {"sqlite_sequence"}
    assert tables == {MIGRATION_TABLE, *(m._meta.table_name for m in MODELS)}

    for model in MODELS:
        table = model._meta.table_name
        fields = model._meta.sorted_fields

        columns = await db.read(db.peewee.get_columns, table)
        assert [c.name for c in columns] == [f.column_name for f in fields], table
        for column, field in zip(columns, fields):
            assert (column.null, column.primary_key) == (field.null, field.primary_key), f"{table}.{column.name}"

        assert await db.read(_actual_indexes, db.peewee, table) == _expected_indexes(model), table

        foreign_keys = await db.read(db.peewee.get_foreign_keys, table)
        assert sorted((fk.column, fk.dest_table, fk.dest_column, fk.on_delete) for fk in foreign_keys) == sorted(
            (
                f.column_name,
                f.rel_model._meta.table_name,
                f.rel_field.column_name,
                (f.on_delete or "NO ACTION").upper(),
            )
            for f in fields
            if isinstance(f, peewee.ForeignKeyField)
        ), table

    # Types, lengths, defaults and index names: compare with tables created straight from the
    # models on a second database of the same backend.
    reference = open_database(new_url())
    with reference.connection_context(), reference.bind_ctx(MODELS):
        reference.create_tables(MODELS)
        expected = _introspect(reference)
    assert await db.read(_introspect, db.peewee) == expected


# --------------------------------------------------------------------------------------------
# 3. Threads: one writer, several readers, the event loop never blocked


class Ticker:
    """Counts event-loop iterations while running; a blocked loop stops the count."""

    def __init__(self, interval: float = 0.01) -> None:
        self.ticks = 0
        self._interval = interval

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(self._interval)


def _new_app(app_id: str) -> App:
    return App.create(app_id=app_id, name=app_id, secret_key="sk_" + app_id, created_at=0)


def _app_ids() -> list[str]:
    return [a.app_id for a in App.select(App.app_id).order_by(App.id)]


async def test_slow_write_does_not_block_event_loop(db: Database):
    def slow_write() -> str:
        _new_app("slow")
        time.sleep(0.3)
        return threading.current_thread().name

    async with Ticker() as ticker:
        started = time.monotonic()
        thread = await db.write(slow_write)
        elapsed = time.monotonic() - started
        ticks = ticker.ticks
    assert elapsed >= 0.3
    assert ticks >= 10, f"the loop ticked only {ticks} times during a 0.3 s write"
    assert thread.startswith("parley-db-write")
    assert await db.read(_app_ids) == ["slow"]


async def test_slow_read_does_not_block_event_loop(db: Database):
    def slow_read() -> str:
        time.sleep(0.3)
        return threading.current_thread().name

    async with Ticker() as ticker:
        thread = await db.read(slow_read)
        ticks = ticker.ticks
    assert ticks >= 10, f"the loop ticked only {ticks} times during a 0.3 s read"
    assert thread.startswith("parley-db-read")


async def test_writes_serialise_on_one_thread_and_reads_use_others(db: Database):
    active, most_active = 0, 0
    lock = threading.Lock()

    def write(i: int) -> int:
        nonlocal active, most_active
        with lock:
            active += 1
            most_active = max(most_active, active)
        try:
            _new_app(f"app{i}")
            time.sleep(0.02)
            return threading.get_ident()
        finally:
            with lock:
                active -= 1

    def read() -> int:
        App.select().count()
        time.sleep(0.02)
        return threading.get_ident()

    writers = await asyncio.gather(*(db.write(write, i) for i in range(6)))
    readers = await asyncio.gather(*(db.read(read) for _ in range(6)))

    assert most_active == 1, "two writes ran at the same time"
    assert len(set(writers)) == 1
    assert len(set(readers)) == len(db._readers)  # round robin over every reader
    assert set(writers).isdisjoint(readers)
    assert threading.get_ident() not in {*writers, *readers}
    assert sorted(await db.read(_app_ids)) == sorted(f"app{i}" for i in range(6))


async def test_read_during_long_write_sees_last_commit_without_waiting(db: Database):
    """With WAL (SQLite) or MVCC (PostgreSQL) a reader neither waits for nor sees an open write."""
    await db.write(_new_app, "before")
    inserted, release = threading.Event(), threading.Event()

    def long_write() -> None:
        # Enough data to overflow a tiny page cache: SQLite must then write pages out before
        # commit, which in rollback-journal mode takes an EXCLUSIVE lock that blocks readers;
        # in WAL mode the pages go to the WAL and readers carry on.
        if db.is_sqlite:
            db.peewee.execute_sql("pragma cache_size = 10")
        try:
            _new_app("during")
            App.insert_many(
                {"app_id": f"bulk{i}", "name": "b", "secret_key": "s", "allowed_origins": "x" * 2000, "created_at": 0}
                for i in range(500)
            ).execute()
            inserted.set()
            assert release.wait(10), "the test never released the write"
        finally:
            if db.is_sqlite:
                db.peewee.execute_sql(f"pragma cache_size = {SQLITE_PRAGMAS['cache_size']}")

    write = asyncio.create_task(db.write(long_write))
    try:
        async with asyncio.timeout(5):
            while not inserted.is_set():
                await asyncio.sleep(0.005)
        seen = await asyncio.wait_for(db.read(_app_ids), timeout=2)
        assert not write.done(), "the write committed before the read returned"
        assert seen == ["before"]
    finally:
        release.set()
        await write
    assert (await db.read(_app_ids))[:2] == ["before", "during"]
    assert await db.read(lambda: App.select().count()) == 502


async def test_exception_in_write_rolls_back(db: Database):
    class Boom(Exception):
        pass

    def failing_write() -> None:
        _new_app("one")
        _new_app("two")
        raise Boom

    with pytest.raises(Boom):
        await db.write(failing_write)
    assert await db.read(_app_ids) == []

    # the writer's connection is usable afterwards, and not left inside a transaction
    await db.write(_new_app, "three")
    assert await db.read(_app_ids) == ["three"]
    assert await db.write(db.peewee.in_transaction)  # inside write(): yes
    assert not await db.read(db.peewee.in_transaction)


# --------------------------------------------------------------------------------------------
# 4. Use cases: identical behaviour on SQLite and PostgreSQL


async def test_chat_use_cases(db: Database):
    ctx = ChatContext(db)
    published: list[Event] = []

    async def collect(event: Event) -> None:
        published.append(event)

    ctx.events.subscribe(collect)

    def drain() -> list[str]:
        names = [e.name for e in published]
        published.clear()
        return names

    created = await apps.create_app(ctx, "x")
    assert created["name"] == "x" and created["secretKey"].startswith("sk_")
    app = await apps.get_app(ctx, created["appId"])

    for user_id, name in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")):
        user = await users.put_user(ctx, app, user_id, {"name": name, "email": [f"{user_id}@example.com"]})
        assert (user["id"], user["name"], user["email"]) == (user_id, name, [f"{user_id}@example.com"])
    updated = await users.put_user(ctx, app, "alice", {"custom": {"team": "red"}})
    assert (updated["name"], updated["custom"]) == ("Alice", {"team": "red"})

    body = {"participants": ["alice", "bob", "carol"], "subject": "Hello", "custom": {"k": "v"}}
    assert await conversations.put_conversation(ctx, app, "conv", body) == {}
    assert drain() == ["participant:added"] * 3
    view = await conversations.get_conversation(ctx, app, "conv")
    assert (view["subject"], view["custom"], view["lastMessage"]) == ("Hello", {"k": "v"}, None)
    assert sorted(view["participants"]) == ["alice", "bob", "carol"]

    sent = await messages.post_messages(
        ctx,
        app,
        "conv",
        [
            {"text": "hello", "sender": "alice", "idempotencyKey": "k1"},
            {"text": "hi alice", "sender": "bob", "custom": {"mood": "good"}},
        ],
    )
    assert [(m["text"], m["senderId"]) for m in sent] == [("hello", "alice"), ("hi alice", "bob")]
    assert drain() == ["message:new"] * 2

    # a resend with the same idempotencyKey returns the stored message and stores nothing new
    [resent] = await messages.post_messages(ctx, app, "conv", [{"text": "hello", "sender": "alice", "idempotencyKey": "k1"}])
    assert resent["id"] == sent[0]["id"]
    assert drain() == []

    # a batch is stored whole or not at all
    with pytest.raises(Forbidden):
        await messages.post_messages(
            ctx, app, "conv", [{"text": "lost", "sender": "carol"}, {"text": "nope", "sender": "mallory"}]
        )
    assert drain() == []

    await messages.post_messages(ctx, app, "conv", [{"text": "a system note", "type": "SystemMessage"}])
    assert drain() == ["message:new"]

    listed = (await messages.list_messages(ctx, app, "conv", {}))["data"]
    assert [(m["text"], m["senderId"], m["type"]) for m in listed] == [
        ("a system note", None, "SystemMessage"),
        ("hi alice", "bob", "UserMessage"),
        ("hello", "alice", "UserMessage"),
    ]
    assert listed[1]["custom"] == {"mood": "good"}
    # readBy order is not specified (participant_reads has no ORDER BY): compare as sets
    assert [sorted(m["readBy"]) for m in listed] == [[], [], ["bob"]]
    older = await messages.list_messages(ctx, app, "conv", {"limit": "1", "startingAfter": listed[1]["id"]})
    assert [m["id"] for m in older["data"]] == [sent[0]["id"]]

    async def unread(user_id: str) -> list[tuple[str, int, bool]]:
        feed = (await users.list_user_conversations(ctx, app, user_id, {}))["data"]
        return [(c["id"], c["unreadMessageCount"], c["isUnread"]) for c in feed]

    assert await unread("alice") == [("conv", 2, True)]  # bob's message and the system message
    assert await unread("bob") == [("conv", 1, True)]  # the system message
    assert await unread("carol") == [("conv", 3, True)]

    carol = await db.read(lookup.find_user, app, "carol")
    await messages.mark_read(ctx, app, "conv", carol, listed[0]["id"])
    assert drain() == ["conversation:read"]
    assert await unread("carol") == [("conv", 0, False)]
    unread_only = await users.list_user_conversations(ctx, app, "carol", {"unreadsOnly": "true"})
    assert unread_only["data"] == []
    listed = (await messages.list_messages(ctx, app, "conv", {}))["data"]
    assert [sorted(m["readBy"]) for m in listed] == [["carol"], ["carol"], ["bob", "carol"]]

    # a second conversation with newer activity comes first in the feed
    await conversations.put_conversation(ctx, app, "other", {"participants": ["alice", "carol"]})
    await messages.post_messages(ctx, app, "other", [{"text": "psst", "sender": "alice"}])
    assert await unread("carol") == [("other", 1, True), ("conv", 0, False)]
    assert await unread("bob") == [("conv", 1, True)]

    await conversations.delete_conversation(ctx, app, "conv")
    assert await unread("carol") == [("other", 1, True)]
    assert await unread("bob") == []
    assert await db.read(lambda: Message.select().count()) == 1


async def test_postgres_migrates_once(databases, postgres_url: str):
    first = databases(postgres_url)
    assert not first.is_sqlite
    assert first.start() == ALL_MIGRATIONS
    databases.close(first)
    second = databases(postgres_url)
    assert second.start() == []
    databases.close(second)


# --------------------------------------------------------------------------------------------
# The large-table query: the latest 50 messages of a conversation come from an index


async def test_latest_messages_use_conversation_index_without_sorting(databases, tmp_path: pathlib.Path):
    db = databases(f"sqlite:///{tmp_path}/parley.db")
    db.start()

    def seed() -> list[Conversation]:
        app = _new_app("big")
        user = User.create(app=app, user_id="u", name="U", created_at=0)
        convs = [Conversation.create(app=app, conversation_id=f"c{i}", created_at=0) for i in range(20)]
        rows = [
            {
                "message_id": f"m{c.id}_{n}",
                "conversation": c.id,
                "sender": user.id if n % 2 else None,
                "type": "UserMessage",
                "text": "x",
                "origin": "rest",
                "created_at": n,
            }
            for n in range(200)
            for c in convs
        ]
        for batch in peewee.chunked(rows, 500):
            Message.insert_many(batch).execute()
        return convs

    conversation = (await db.write(seed))[7]
    sql, params = await db.read(lambda: queries.LATEST.sql(conversation=conversation.id, limit=50))

    def plan() -> list[str]:
        return [row[3] for row in db.peewee.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]

    # Indexes whose leading column is conversation_id. SQLite appends the rowid (= seq, the
    # INTEGER PRIMARY KEY) to every index, so each of them yields a conversation's rows in seq order.
    by_conversation = {
        i.name for i in await db.read(db.peewee.get_indexes, "message") if i.columns[0] == "conversation_id"
    }
    assert "message_conversation_id_seq" in by_conversation

    for stage in ("without statistics", "after ANALYZE"):
        steps = await db.read(plan)
        message_steps = [s for s in steps if s.startswith("SEARCH t1 ")]
        assert len(message_steps) == 1, (stage, steps)
        used = re.search(r" USING (?:COVERING )?INDEX (\S+)", message_steps[0])
        assert used is not None and used[1] in by_conversation, (stage, steps)
        assert not any("TEMP B-TREE" in s for s in steps), (stage, steps)
        await db.write(lambda: db.peewee.execute_sql("ANALYZE"))

    rows = await db.read(lambda: queries.LATEST.rows(conversation=conversation.id, limit=50))
    assert len(rows) == 50
    assert [r.seq for r in rows] == sorted((r.seq for r in rows), reverse=True)
    assert {r.conversation_id for r in rows} == {conversation.id}
    assert collections.Counter(r.sender_uid for r in rows) == {"u": 25, None: 25}
