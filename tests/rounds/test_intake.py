"""Group commit: votes from many threads, each acknowledged only once stored."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tastemaker.core.voting_power import Allowance
from tastemaker.rounds.intake import VoteIntake
from tastemaker.rounds.votes import Ballot, VoteReceipt, VoteRefused
from tastemaker.store.tables import VoteRow

from .test_votes import NOW, WORKS, _populate, _signed, allowance_of

GRANT = Allowance(100, True)


@pytest.fixture
def db(database):
    return _populate(database)


def test_concurrent_votes_are_each_stored_before_their_receipt(db) -> None:
    intake = VoteIntake(db, allowance_of, max_batch=8)
    ballots = [
        Ballot(*_signed(key_index=k, work=WORKS[w], amount=10, nonce=n), NOW)
        for k in (0, 1)
        for w in range(3)
        for n in range(1, 6)
    ]
    seen_stored = []

    def send(ballot: Ballot) -> VoteReceipt | VoteRefused:
        try:
            receipt = intake.submit(ballot)
        except VoteRefused as refused:  # threads race: a lower nonce may come second
            assert refused.code == "stale_nonce", str(refused)
            return refused
        with db.unit_of_work() as session:  # acknowledged, so it must be there now
            seen_stored.append(session.get(VoteRow, receipt.id) is not None)
        return receipt

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(send, ballots))
    intake.close()
    receipts = [a for a in answers if isinstance(a, VoteReceipt)]
    assert all(seen_stored) and len(seen_stored) == len(receipts) >= 6
    with db.unit_of_work() as session:
        rows = session.scalars(select(VoteRow)).all()
    assert len(rows) == len(receipts)
    # One current vote per (voter, work): the newest nonce that was stored.
    current = {(r.voter, r.work): r.nonce for r in rows if r.current}
    newest: dict[tuple[str, bytes], int] = {}
    for r in rows:
        newest[(r.voter, r.work)] = max(newest.get((r.voter, r.work), 0), r.nonce)
    assert current == newest and len(current) == 6


def test_a_refusal_reaches_its_sender_and_spares_the_batch(db) -> None:
    intake = VoteIntake(db, max_batch=16)
    good = Ballot(*_signed(amount=60), NOW, GRANT)
    over = Ballot(*_signed(work=WORKS[1], amount=41, nonce=2), NOW, GRANT)
    # No allowance and no lookup: an error inside the batch, not a rule broken.
    broken = Ballot(*_signed(key_index=1, work=WORKS[2], amount=1), NOW)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(intake.submit, b) for b in (good, over, broken)]
        assert futures[0].result().status == "accepted"
        with pytest.raises(VoteRefused) as refused:
            futures[1].result()
        assert refused.value.code == "over_budget"
        with pytest.raises(ValueError, match="allowance lookup"):
            futures[2].result()
    intake.close()
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(VoteRow)) == 1


def test_close_drains_the_queue_and_a_later_vote_starts_again(db) -> None:
    intake = VoteIntake(db)
    assert intake.submit(Ballot(*_signed(), NOW, GRANT)).status == "accepted"
    intake.close()
    assert intake._writer is None
    assert intake.submit(Ballot(*_signed(nonce=2), NOW, GRANT)).status == "replaced"
    intake.close()


def test_a_database_failure_is_told_to_the_sender(tmp_path) -> None:
    from tastemaker.store.db import Database, sqlite_url

    database = _populate(Database(sqlite_url(tmp_path / "gone.db")))
    with database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE votes")
    intake = VoteIntake(database)
    with pytest.raises(Exception, match="votes"):
        intake.submit(Ballot(*_signed(), NOW, GRANT))
    intake.close()


def test_a_full_queue_refuses_before_anything_is_written(tmp_path) -> None:
    import asyncio
    import threading

    from tastemaker.rounds.intake import GroupCommit, Overloaded
    from tastemaker.store.db import Database, sqlite_url

    db = Database(sqlite_url(tmp_path / "q.db"))
    release, stored = threading.Event(), []

    def handle(_session, items):
        release.wait(10)  # the writer is busy: later items wait in the queue
        stored.extend(items)
        return list(items)

    commit = GroupCommit(db, handle, max_batch=1, max_queue=2)

    async def crowd() -> list[object]:
        first = asyncio.ensure_future(commit.submit_async("a"))
        await asyncio.sleep(0.2)  # "a" is in the writer's hands, the queue is empty
        queued = [asyncio.ensure_future(commit.submit_async(x)) for x in ("b", "c")]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await commit.submit_async("d")
        release.set()
        return await asyncio.gather(first, *queued)

    assert asyncio.run(crowd()) == ["a", "b", "c"]
    assert stored == ["a", "b", "c"], "the refused item was never handed to the writer"
    commit.close()
    db.dispose()
