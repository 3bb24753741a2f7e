from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from sqlalchemy import select

from tastemaker.core.ballots import Vote, VoteDomain, sign_vote
from tastemaker.core.voting_power import Allowance
from tastemaker.rounds.votes import Ballot, VoteReceipt, VoteRefused, cast_vote, cast_votes
from tastemaker.store.db import Database, sqlite_url
from tastemaker.store.tables import GenomeRow, PoolEntry, Round, VoteRow, Work

CONTRACT = "0x" + "ab" * 20
DOMAIN = VoteDomain(31337, CONTRACT)
START = datetime(2026, 11, 1, tzinfo=UTC)
NOW = START + timedelta(days=1)
KEYS = ["0x" + f"{i:02x}" * 32 for i in range(1, 4)]
ADDRESSES = [Account.from_key(k).address for k in KEYS]
WORKS = [bytes([i]) * 32 for i in range(1, 4)]
OUTSIDE = b"\x99" * 32
BUDGET = 100


def allowance_of(voter: str, round_: Round) -> Allowance:
    return Allowance(BUDGET if voter != ADDRESSES[2] else 0, voter != ADDRESSES[2])


@pytest.fixture
def db(database):
    return _populate(database)


def _populate(database):
    with database.unit_of_work() as session:
        session.add(GenomeRow(id="g" * 64, engine="cppn", engine_version="1", data={}, parents=[]))
        for i, work in enumerate([*WORKS, OUTSIDE]):
            session.add(
                Work(content_hash=work, cid=f"cid{i}", genome_id="g" * 64, size=64, round_created=1)
            )
        for number, state in ((1, "voting"), (2, "closed")):
            session.add(
                Round(
                    number=number,
                    state=state,
                    chain_id=31337,
                    verifying_contract=CONTRACT,
                    opens_at=START,
                    closes_at=START + timedelta(days=7),
                    rules={},
                )
            )
        session.flush()
        for i, work in enumerate(WORKS):
            session.add(PoolEntry(round=1, work=work, position=i, reason="curated"))
    return database


def _signed(key_index=0, domain=DOMAIN, sign_with=None, **fields):
    values = (
        dict(voter=ADDRESSES[key_index], round=1, work=WORKS[0], direction=1, amount=40, nonce=1)
        | fields
    )
    vote = Vote(**values)
    signature = sign_vote(vote, domain, sign_with or KEYS[key_index])
    return vote.message_json(), "0x" + signature.hex()


def _cast(db, message, signature, now=NOW):
    with db.unit_of_work() as session:
        return cast_vote(session, message, signature, allowance_of, now=now)


def test_accept_replace_and_duplicate(db) -> None:
    receipt = _cast(db, *_signed())
    assert receipt.status == "accepted" and receipt.remaining == 60
    assert _cast(db, *_signed()).status == "duplicate"
    replaced = _cast(db, *_signed(amount=70, direction=-1, nonce=2))
    assert replaced.status == "replaced" and replaced.spent == 70
    other = _cast(db, *_signed(work=WORKS[1], amount=30, nonce=3))
    assert other.remaining == 0
    with db.unit_of_work() as session:
        rows = session.scalars(select(VoteRow).order_by(VoteRow.nonce)).all()
        assert [(r.nonce, r.current) for r in rows] == [(1, False), (2, True), (3, True)]
        assert rows[1].direction == -1 and rows[1].amount == 70
        assert rows[1].id == Vote.from_json(_signed(amount=70, direction=-1, nonce=2)[0]).digest(
            DOMAIN
        )


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: _signed(sign_with=KEYS[1]), "bad_signature"),  # signed by another member
        (lambda: _signed(domain=VoteDomain(1, CONTRACT)), "bad_signature"),  # another chain
        (lambda: _signed(domain=VoteDomain(31337, "0x" + "cd" * 20)), "bad_signature"),
        (lambda: (_signed()[0], "0x" + "00" * 65), "bad_signature"),
        (lambda: (_signed()[0], "0xdead"), "bad_signature"),
        (lambda: _signed(round=2), "round_closed"),
        (lambda: _signed(round=7), "unknown_round"),
        (lambda: _signed(work=OUTSIDE), "not_in_pool"),
        (lambda: _signed(amount=BUDGET + 1), "over_budget"),
        (lambda: _signed(key_index=2, amount=1), "over_budget"),  # no stake, no VP
        (lambda: ({"voter": ADDRESSES[0], "round": 1}, "0x" + "00" * 65), "malformed"),
        (lambda: (_signed()[0] | {"direction": 0}, _signed()[1]), "malformed"),
    ],
)
def test_refusals_store_nothing(db, make, code) -> None:
    message, signature = make()
    with pytest.raises(VoteRefused) as refused:
        _cast(db, message, signature)
    assert refused.value.code == code, str(refused.value)
    with db.unit_of_work() as session:
        assert session.scalar(select(VoteRow)) is None


def test_votes_outside_the_window_are_refused(db) -> None:
    with pytest.raises(VoteRefused) as early:
        _cast(db, *_signed(), now=START - timedelta(seconds=1))
    assert early.value.code == "round_not_open"
    with pytest.raises(VoteRefused) as late:
        _cast(db, *_signed(), now=START + timedelta(days=7))
    assert late.value.code == "round_closed"


def test_replay_of_an_old_nonce_and_budget_across_works(db) -> None:
    _cast(db, *_signed(nonce=5))
    with pytest.raises(VoteRefused) as stale:
        _cast(db, *_signed(nonce=4, amount=10))
    assert stale.value.code == "stale_nonce"
    _cast(db, *_signed(work=WORKS[1], amount=60, nonce=6))
    with pytest.raises(VoteRefused) as over:
        _cast(db, *_signed(work=WORKS[2], amount=1, nonce=7))
    assert over.value.code == "over_budget" and "0 of 100 VP" in str(over.value)


def _mixed_ballots() -> list[Ballot]:
    """Votes that meet every rule and break every rule, several by one voter, in an
    order where later answers depend on earlier ones of the same batch."""
    signed = [
        _signed(nonce=1),  # accepted
        _signed(nonce=1),  # duplicate of the one before, in the same batch
        _signed(amount=70, direction=-1, nonce=2),  # replaces it, in the same batch
        _signed(nonce=2, amount=5),  # stale: not newer than the replacement
        _signed(work=WORKS[1], amount=31, nonce=3),  # over budget: 70 + 31 > 100
        _signed(work=WORKS[1], amount=30, nonce=4),  # fits exactly
        _signed(key_index=1, work=WORKS[2], amount=100, nonce=1),  # another voter
        _signed(key_index=1, work=OUTSIDE, nonce=2),  # not in the pool
        _signed(key_index=2, amount=1),  # no stake
        _signed(sign_with=KEYS[1], nonce=9),  # signed by someone else
        _signed(round=2),  # closed round
        _signed(round=7),  # unknown round
        ({"voter": ADDRESSES[0], "round": 1}, "0x" + "00" * 65),  # malformed
        (["not", "a", "vote"], "0x" + "00" * 65),  # malformed, not even an object
    ]
    return [Ballot(message, signature, NOW) for message, signature in signed]


def _answer(answer: VoteReceipt | VoteRefused) -> tuple:
    if isinstance(answer, VoteRefused):
        return ("refused", answer.code, str(answer))
    return (answer.id, answer.status, answer.spent, answer.allowance)


def _stored(database) -> list[tuple]:
    with database.unit_of_work() as session:
        rows = session.scalars(select(VoteRow).order_by(VoteRow.voter, VoteRow.nonce)).all()
        return [(r.id, r.voter, r.work, r.amount, r.nonce, r.current) for r in rows]


def test_a_batch_answers_and_stores_as_one_by_one_would(db, tmp_path) -> None:
    ballots = _mixed_ballots()
    with db.unit_of_work() as session:
        batch = cast_votes(session, ballots, allowance_of)

    one_by_one = _populate(Database(sqlite_url(tmp_path / "one-by-one.db")))
    singles = []
    for ballot in ballots:
        with one_by_one.unit_of_work() as session:
            singles.append(cast_votes(session, [ballot], allowance_of)[0])

    assert [_answer(a) for a in batch] == [_answer(a) for a in singles]
    codes = [a.code if isinstance(a, VoteRefused) else a.status for a in batch]
    assert codes == [
        "accepted", "duplicate", "replaced", "stale_nonce", "over_budget", "accepted",
        "accepted", "not_in_pool", "over_budget", "bad_signature", "round_closed",
        "unknown_round", "malformed", "malformed",
    ]  # fmt: skip
    assert _stored(db) == _stored(one_by_one)
    assert [row[-1] for row in _stored(db)] == [False, True, True, True]


def test_a_batch_takes_the_allowance_each_ballot_carries(db) -> None:
    rich = Ballot(*_signed(amount=100), NOW, allowance=Allowance(100, True))
    poor = Ballot(*_signed(work=WORKS[1], amount=1, nonce=2), NOW, allowance=Allowance(0, False))
    with db.unit_of_work() as session:
        first, second = cast_votes(session, [rich, poor])
    assert isinstance(first, VoteReceipt) and first.remaining == 0
    assert isinstance(second, VoteRefused) and second.code == "over_budget"


def test_a_batch_over_the_limit_is_refused_before_any_work(db) -> None:
    from tastemaker.rounds.votes import MAX_BATCH

    ballots = [Ballot(*_signed(nonce=n), NOW) for n in range(1, 3)] * (MAX_BATCH // 2 + 1)
    with db.unit_of_work() as session, pytest.raises(ValueError, match="at most"):
        cast_votes(session, ballots, allowance_of)
    assert _stored(db) == []
