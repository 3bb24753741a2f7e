"""Group commit for vote intake: votes from many requests share one transaction.

Each vote is still stored before it is acknowledged: ``submit`` returns (or raises
the vote's refusal) only after the transaction holding it has committed. What is
shared is the cost around the checks: one transaction, one commit and a handful of
statements for every vote that arrived while the previous batch was being written,
instead of all of that for each vote. Under light load a batch is one vote and
nothing waits; under heavy load batches grow by themselves, with no timer.

One writer thread per process drains a queue; request threads block on a future.
If storing a batch fails, its votes are stored one by one, so a vote that trips an
unexpected error fails alone; if the database itself fails (down, locked past its
timeout), each vote gets that error and is not acknowledged, so nothing is lost
without the sender being told.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from tastemaker.rounds.votes import MAX_BATCH, AllowanceLookup, Ballot, VoteReceipt, cast_votes
from tastemaker.store.db import Database

_STOP = object()


class VoteIntake:
    """Checks and stores submitted votes in batches, on one writer thread."""

    def __init__(
        self,
        db: Database,
        allowance_of: AllowanceLookup | None = None,
        max_batch: int = 256,
    ) -> None:
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"max_batch must be 1..{MAX_BATCH}, got {max_batch}")
        self.db = db
        self.allowance_of = allowance_of
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Ballot, Future[object]] | object] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, ballot: Ballot, timeout: float | None = 60.0) -> VoteReceipt:
        """Store ``ballot`` and return its receipt once committed.

        Raises ``VoteRefused`` for a vote that breaks a rule, and the database's error
        if the batch could not be stored.
        """
        done: Future[object] = Future()
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="vote-intake", daemon=True)
                self._writer.start()
            self._queue.put((ballot, done))
        answer = done.result(timeout)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, VoteReceipt)
        return answer

    def close(self) -> None:
        """Finish the votes already queued, then stop the writer (a later vote starts
        a new one: an app may be started and stopped more than once)."""
        with self._lock:  # submitters wait until the queue is drained
            writer, self._writer = self._writer, None
            if writer is not None:
                self._queue.put(_STOP)
                writer.join()

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

    def _store(self, batch: list[tuple[Ballot, Future[object]]]) -> None:
        try:
            with self.db.unit_of_work() as session:
                answers = cast_votes(session, [ballot for ballot, _ in batch], self.allowance_of)
        except Exception as exc:  # handed to the waiting senders, not raised here
            if len(batch) > 1:
                for one in batch:
                    self._store([one])
            else:
                batch[0][1].set_result(exc)
            return
        for (_, done), answer in zip(batch, answers, strict=True):
            done.set_result(answer)
