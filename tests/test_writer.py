"""The single writer with group commit: writes queued together commit together, each in its savepoint."""

from __future__ import annotations

import asyncio

import pytest

from server.db.database import Database
from server.db.models import Setting


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/writer.db")
    database.start()
    yield database
    database.close()


def store(key: str) -> str:
    Setting.create(key=key, value="v")
    return key


def fail_after_storing(key: str) -> str:
    Setting.create(key=key, value="v")
    raise ValueError(f"{key} refused")


async def test_writes_arriving_together_commit_together_and_a_failure_rolls_back_alone(db):
    jobs = [db.write(store, f"k{i}") if i != 7 else db.write(fail_after_storing, "k7") for i in range(40)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert isinstance(results[7], ValueError) and str(results[7]) == "k7 refused"
    assert [r for i, r in enumerate(results) if i != 7] == [f"k{i}" for i in range(40) if i != 7]
    keys = await db.read(lambda: sorted(s.key for s in Setting.select()))
    assert "k7" not in keys and len(keys) == 39  # the failed write's row was rolled back, the others stayed
    transactions, writes = db.write_counts
    assert transactions < writes  # some of them did share a commit


async def test_a_lone_failing_write_rolls_back(db):
    with pytest.raises(ValueError):
        await db.write(fail_after_storing, "alone")
    assert await db.read(lambda: Setting.get_or_none(Setting.key == "alone")) is None


def test_blocking_callers_and_a_stopped_writer(db):
    assert db.write_blocking(store, "blocking") == "blocking"
    assert db.read_blocking(lambda: Setting.get(Setting.key == "blocking").value) == "v"


def test_what_a_second_try_settles_is_recognised_on_the_real_drivers(tmp_path, postgres_url):
    """A unique violation from PostgreSQL (a concurrent insert won) is retried; SQLite's never happens
    concurrently (one writer), and a plain failure is not retried."""
    import peewee

    from server.db.writer import retryable

    for url, expected in ((postgres_url, True), (f"sqlite:///{tmp_path}/retry.db", False)):
        database = Database(url)
        database.start()
        database.write_blocking(store, "taken")
        with pytest.raises(peewee.IntegrityError) as refused:
            database.write_blocking(store, "taken")
        assert retryable(refused.value) is expected, url
        database.close()
    assert not retryable(ValueError("no"))


def test_a_write_beaten_by_a_concurrent_insert_is_tried_again(postgres_url):
    """The writer's retry, driven deterministically: the first attempt collides, the second finds the row."""
    import psycopg

    database = Database(postgres_url)
    database.start()
    attempts = []

    def insert_or_read(key: str) -> str:
        attempts.append(key)
        if Setting.get_or_none(Setting.key == key) is None:
            if len(attempts) == 1:  # as if another process had inserted it just before us
                with psycopg.connect(postgres_url, autocommit=True) as other:
                    other.execute("INSERT INTO setting (key, value) VALUES (%s, 'v')", (key,))
            Setting.create(key=key, value="mine")
        return Setting.get(Setting.key == key).value

    assert database.write_blocking(insert_or_read, "raced") == "v" and len(attempts) == 2
    database.close()
