"""The single writer, with group commit: writes queued while one runs commit together.

Every write runs on one thread, so SQLite never contends for its lock and PostgreSQL sees one
connection's transactions in order. When writes arrive faster than they run (a lobby's guests
arriving, a burst of messages), the writer takes all that are waiting, runs each inside its own
savepoint of one transaction and commits once: a write that fails rolls back alone, the others
commit, and every caller hears of its own outcome only after the commit (so events are still
published only for committed writes). One wake-up of the event loop settles the whole batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import queue
import threading
from collections.abc import Callable
from typing import Any

import peewee

MAX_BATCH = 256
# PostgreSQL refusals that a second try settles, with several processes writing at once: a
# serialization failure, a deadlock (two batches locking conversations in opposite orders), and a
# unique violation (a concurrent insert of the same user, conversation or participation won; the
# retry finds its row). A write whose own data breaks a constraint fails again and is reported.
RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505"})
ATTEMPTS = 3


@dataclasses.dataclass(slots=True)
class _Job:
    fn: Callable[..., Any]
    args: tuple
    loop: asyncio.AbstractEventLoop | None  # None: a blocking caller waiting on `future`
    future: Any  # asyncio.Future, or concurrent.futures.Future for blocking callers
    transactional: bool = True


class GroupCommitWriter:
    def __init__(self, database: peewee.Database, name: str) -> None:
        self.database = database
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.batches = 0
        self.jobs = 0

    async def write(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Job(fn, args, loop, future))
        return await future

    def write_blocking(self, fn: Callable[..., Any], *args: Any, transactional: bool = True) -> Any:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put(_Job(fn, args, None, future, transactional))
        return future.result()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch, stopping = [job], False
            while len(batch) < MAX_BATCH and batch[-1].transactional:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    stopping = True
                    break
                if not following.transactional:  # runs on its own, after this batch
                    self._settle(self._run_batch(batch))
                    batch = [following]
                    break
                batch.append(following)
            self._settle(self._run_batch(batch))
            if stopping:
                return

    def _run_batch(self, batch: list[_Job]) -> list[tuple[_Job, Any, BaseException | None]]:
        self.batches += 1
        self.jobs += len(batch)
        if not batch[0].transactional:
            return [self._outcome(batch[0])]
        try:
            self.database.connect(reuse_if_open=True)
            if len(batch) == 1:
                return [self._attempt(batch[0])]  # its own transaction
            with self.database.atomic():
                outcomes = [self._attempt(job, attempts=1) for job in batch]  # each in a savepoint
        except Exception as error:  # the commit failed: nothing of the batch is stored
            return [(job, None, error) for job in batch]
        # A write that met a concurrent writer is tried again alone, after the batch committed: inside the
        # batch, the locks its other writes hold would meet the same writer again (a deadlock twice over).
        return [self._attempt(job) if error is not None and retryable(error) else (job, result, error)
                for job, result, error in outcomes]

    def _attempt(self, job: _Job, attempts: int = ATTEMPTS) -> tuple[_Job, Any, BaseException | None]:
        """One write in a transaction (or a savepoint of the batch's), tried again when a concurrent
        writer got in its way; a failure rolls back only this write."""
        for attempt in range(attempts):
            try:
                with self.database.atomic():
                    return job, job.fn(*job.args), None
            except Exception as error:
                if attempt + 1 == attempts or not retryable(error):
                    return job, None, error
        raise AssertionError("unreachable")

    def _outcome(self, job: _Job) -> tuple[_Job, Any, BaseException | None]:
        try:
            return job, job.fn(*job.args), None
        except Exception as error:
            return job, None, error

    def _settle(self, outcomes: list[tuple[_Job, Any, BaseException | None]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for job, result, error in outcomes:
            if job.loop is None:
                if error is None:
                    job.future.set_result(result)
                else:
                    job.future.set_exception(error)
            else:
                by_loop.setdefault(job.loop, []).append((job.future, result, error))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle_in_loop, settled)
            except RuntimeError:  # that loop has closed: nobody is waiting any more
                pass


def retryable(error: BaseException) -> bool:
    """psycopg's exceptions carry the SQLSTATE; peewee re-raises them as its own while handling them, so
    the driver's is the context of what reaches here."""
    candidates = (error, error.__cause__, error.__context__, error.args[0] if error.args else None)
    return any(getattr(candidate, "sqlstate", None) in RETRY_SQLSTATES for candidate in candidates)


def _settle_in_loop(settled: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
    for future, result, error in settled:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
