"""Group commit: the writes of many requests share one transaction, on one thread.

Each item is still stored before it is acknowledged: its future resolves (with an
answer, or the item's refusal) only after the transaction holding it has committed.
What is shared is the cost around the checks: one transaction, one commit (one
fsync on SQLite) and a handful of statements for every item that arrived while the
previous batch was being written, instead of all of that for each item. Under light
load a batch is one item and nothing waits; under heavy load batches grow by
themselves, with no timer.

One writer thread per process drains a queue; callers wait on a future (a thread
with ``submit``, a coroutine with ``submit_async``). The
batch runs in ``Database.write_unit``, which on SQLite holds the write lock from the
first read, so several server processes on one database stay exact. If storing a
batch fails, its items are stored one by one, so an item that trips an unexpected
error fails alone; if the database itself fails (down, locked past its timeout),
each item gets that error and is not acknowledged, so nothing is lost without the
sender being told.

``VoteIntake`` is the group commit of signed votes (``rounds.votes.cast_votes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import BinaryIO, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from tastemaker.errors import TastemakerError
from tastemaker.rounds.votes import MAX_BATCH, AllowanceLookup, Ballot, VoteReceipt, cast_votes
from tastemaker.store.db import Database, sqlite_file

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

_STOP = object()
Item = TypeVar("Item")
# Stores a batch in the session (the writer commits); one answer per item, in order.
# An answer that is an exception is raised to that item's caller.
BatchHandler = Callable[[Session, Sequence[Item]], Sequence[object]]


class _Done(Protocol):
    def set_result(self, result: object) -> None: ...


class _LoopWaiter:
    """Resolves an asyncio future from the writer thread, on the future's loop."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[object]) -> None:
        self.loop, self.future = loop, future

    def set_result(self, result: object) -> None:
        _wake(self.loop, [(self.future, result)])


def _wake(loop: asyncio.AbstractEventLoop, results: list[tuple[asyncio.Future, object]]) -> None:
    """Hand answers to coroutines waiting on ``loop``: one wake-up for all of them."""
    with contextlib.suppress(RuntimeError):  # the loop has closed: no one is waiting
        loop.call_soon_threadsafe(_resolve, results)


def _resolve(results: list[tuple[asyncio.Future, object]]) -> None:
    for future, result in results:
        if not future.done():  # the request may have been cancelled (client gone)
            future.set_result(result)


class Overloaded(TastemakerError):
    """More items are waiting than the writer may queue: refused before anything is
    written (the web app answers 503 with Retry-After)."""


# Items that may wait for the writer; past it a submit is refused, not queued for a
# wait longer than a client would stay for.
MAX_QUEUE = 20_000


class GroupCommit(Generic[Item]):
    """Stores submitted items in batches with ``handle``, on one writer thread."""

    def __init__(
        self,
        db: Database,
        handle: BatchHandler[Item],
        max_batch: int = 256,
        max_queue: int = MAX_QUEUE,
    ) -> None:
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"max_batch must be 1..{MAX_BATCH}, got {max_batch}")
        self.db = db
        self.handle = handle
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._queue: queue.SimpleQueue[tuple[Item, _Done] | object] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._lock_file: BinaryIO | None = None

    def submit_future(self, item: Item) -> Future[object]:
        """Queue ``item``; the future resolves once its batch has committed (or failed)."""
        done: Future[object] = Future()
        self._put(item, done)
        return done

    async def submit_async(self, item: Item) -> object:
        """``submit`` for a coroutine: its answer (a refusal is returned, not raised),
        handed to the event loop once the batch has committed. (An asyncio future, not
        a thread one: no lock and condition per request.)"""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._put(item, _LoopWaiter(loop, waiter))
        return await waiter

    def _put(self, item: Item, done: _Done) -> None:
        if self._queue.qsize() >= self.max_queue:
            raise Overloaded(f"{self.max_queue} requests are already waiting to be stored")
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._writer.start()
            self._queue.put((item, done))

    def submit(self, item: Item, timeout: float | None = 60.0) -> object:
        """Store ``item`` and return its answer once committed; raises its refusal."""
        answer = self.submit_future(item).result(timeout)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """On a SQLite file, the writers of all processes take turns by an ``flock`` on
        a file beside the database before they begin. SQLite's own lock is still what
        keeps them exact; this is only about waiting: a writer blocked on SQLite's lock
        polls it with sleeps of up to 100 ms (its busy handler), so two busy processes
        added whole sleeps to their latencies; a blocked ``flock`` wakes as soon as the
        other writer is done."""
        if self._lock_file is None:
            path = sqlite_file(self.db.url)
            if path is None or fcntl is None:  # PostgreSQL waits on its row locks
                yield
                return
            self._lock_file = open(f"{path}-writers.lock", "ab")  # noqa: SIM115 (kept open)
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def close(self) -> None:
        """Finish the items already queued, then stop the writer (a later item starts
        a new one: an app may be started and stopped more than once)."""
        with self._lock:  # submitters wait until the queue is drained
            writer, self._writer = self._writer, None
            if writer is not None:
                self._queue.put(_STOP)
                writer.join()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._store(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _store(self, batch: list[tuple[Item, _Done]]) -> None:
        try:
            with self._turn(), self.db.write_unit() as session:
                answers = self.handle(session, [item for item, _ in batch])
        except Exception as exc:  # handed to the waiting senders, not raised here
            if len(batch) > 1:
                for one in batch:
                    self._store([one])
            else:
                batch[0][1].set_result(exc)
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, object]]] = {}
        for (_, done), answer in zip(batch, answers, strict=True):
            if isinstance(done, _LoopWaiter):
                by_loop.setdefault(done.loop, []).append((done.future, answer))
            else:
                done.set_result(answer)
        for loop, results in by_loop.items():
            _wake(loop, results)


class VoteIntake(GroupCommit[Ballot]):
    """Checks and stores submitted votes in batches (``cast_votes``)."""

    def __init__(
        self, db: Database, allowance_of: AllowanceLookup | None = None, max_batch: int = 256
    ) -> None:
        self.allowance_of = allowance_of
        super().__init__(
            db, lambda session, ballots: cast_votes(session, ballots, allowance_of), max_batch
        )

    def submit(self, item: Ballot, timeout: float | None = 60.0) -> VoteReceipt:
        """Store the ballot and return its receipt once committed.

        Raises ``VoteRefused`` for a vote that breaks a rule, and the database's error
        if the batch could not be stored.
        """
        answer = super().submit(item, timeout)
        assert isinstance(answer, VoteReceipt)
        return answer
