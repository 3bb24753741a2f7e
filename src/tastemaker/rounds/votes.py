"""Vote intake: check signed votes against every rule, then store them before saying yes.

Checks, in order: the message is well formed; the round exists; the signature is
the voter's, in this round's domain (chain id + contract); the round is open for
voting now; the work is in the round's pool; the nonce is newer than the voter's
earlier vote on that work; the VP spent stays within the voter's allowance. A later
vote on the same work replaces the earlier one (both stay stored; ``current``
marks the one that counts). Re-sending an accepted vote is harmless.

``cast_votes`` takes a batch: it reads what the checks need for the whole batch in
a handful of statements, decides each vote in order (so a batch gives the same
answers as the same votes cast one by one), and writes the accepted ones with two
executemany statements. A refusal is an answer for that vote, not a failure of the
batch. ``rounds.intake`` uses this for group commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from tastemaker.core.ballots import BallotError, Vote, VoteDomain, parse_signature, verify_vote
from tastemaker.core.voting_power import Allowance
from tastemaker.errors import TastemakerError
from tastemaker.rounds.states import OPENING, VOTING
from tastemaker.store.tables import Member, PoolEntry, Round, VoteRow

AllowanceLookup = Callable[[str, Any], Allowance]  # (voter, round row) -> allowance

RefusalCode = Literal[
    "malformed",
    "unknown_round",
    "bad_signature",
    "round_not_open",
    "round_closed",
    "not_in_pool",
    "stale_nonce",
    "over_budget",
]

# Most ids one statement binds; SQLite allows 32,766 variables a statement.
MAX_BATCH = 1000

# Statements are built once: on this hot path SQLAlchemy's statement construction
# costs more than SQLite's execution.
_rounds, _pool, _members, _votes = (
    Round.__table__.c,
    PoolEntry.__table__.c,
    Member.__table__.c,
    VoteRow.__table__.c,
)
_ROUNDS = select(
    _rounds.number,
    _rounds.state,
    _rounds.chain_id,
    _rounds.verifying_contract,
    _rounds.opens_at,
    _rounds.closes_at,
).where(_rounds.number.in_(bindparam("numbers", expanding=True)))
_IN_POOL = select(_pool.round, _pool.work).where(
    _pool.round.in_(bindparam("rounds", expanding=True)),
    _pool.work.in_(bindparam("works", expanding=True)),
)
# Lock the voters' rows, in one order so two batches cannot deadlock, so that two
# votes of one member cannot both pass the budget (PostgreSQL; SQLite already lets
# one writer at a time).
_LOCK_MEMBERS = (
    select(_members.address)
    .where(_members.address.in_(bindparam("addresses", expanding=True)))
    .order_by(_members.address)
    .with_for_update()
)
_ADD_MEMBER = insert(Member.__table__)
_CURRENT = select(
    _votes.id, _votes.round, _votes.voter, _votes.work, _votes.amount, _votes.nonce
).where(
    _votes.round.in_(bindparam("rounds", expanding=True)),
    _votes.voter.in_(bindparam("voters", expanding=True)),
    _votes.current.is_(True),
)
_KNOWN = select(_votes.id).where(_votes.id.in_(bindparam("ids", expanding=True)))
_SUPERSEDE = (
    update(VoteRow.__table__).where(_votes.id == bindparam("vote_id")).values(current=False)
)
_INSERT = insert(VoteRow.__table__)


class VoteRefused(TastemakerError):
    """A vote that breaks a rule; ``code`` says which, the message says how."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class VoteReceipt:
    id: bytes
    status: Literal["accepted", "replaced", "duplicate"]
    spent: int
    allowance: int

    @property
    def remaining(self) -> int:
        return max(self.allowance - self.spent, 0)


@dataclass(frozen=True)
class Ballot:
    """A signed vote as it arrived: the message, its signature, and when it came."""

    message: dict[str, Any]
    signature: str | bytes
    received_at: datetime
    allowance: Allowance | None = None  # read before the database work; None: ask the lookup


@lru_cache(maxsize=64)
def vote_domain(chain_id: int, contract: str) -> VoteDomain:
    """Domains are few and hashing one costs a checksum and three keccaks: reuse them."""
    return VoteDomain(chain_id, contract)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cast_vote(
    session: Session,
    message: dict[str, Any],
    signature: str | bytes,
    allowance_of: AllowanceLookup,
    now: datetime | None = None,
) -> VoteReceipt:
    """Check and store one signed vote in ``session`` (the caller commits)."""
    ballot = Ballot(message, signature, now or datetime.now(UTC))
    (answer,) = cast_votes(session, [ballot], allowance_of)
    if isinstance(answer, VoteRefused):
        raise answer
    return answer


@dataclass
class _Checked:
    """A vote whose message, round, signature and window passed."""

    vote: Vote
    id: bytes
    ballot: Ballot
    round: Row[Any]


def _check_alone(
    ballot: Ballot, rounds: dict[int, Row[Any]], now: datetime
) -> _Checked | VoteRefused:
    """The checks that need nothing but the message and its round."""
    try:
        vote = Vote.from_json(ballot.message)
    except BallotError as exc:
        return VoteRefused("malformed", str(exc))
    round_ = rounds.get(vote.round)
    if round_ is None:
        return VoteRefused("unknown_round", f"there is no round {vote.round}")
    domain = vote_domain(round_.chain_id, round_.verifying_contract)
    try:
        vote_id = verify_vote(vote, domain, ballot.signature)
    except BallotError as exc:
        return VoteRefused("bad_signature", str(exc))
    if now < _aware(round_.opens_at) or round_.state == OPENING:
        return VoteRefused("round_not_open", f"round {vote.round} is not open for voting yet")
    if round_.state != VOTING or now >= _aware(round_.closes_at):
        return VoteRefused("round_closed", f"round {vote.round} is closed for voting")
    return _Checked(vote, vote_id, ballot, round_)


def _round_numbers(ballots: Sequence[Ballot]) -> list[int]:
    numbers = set()
    for ballot in ballots:
        number = ballot.message.get("round") if isinstance(ballot.message, dict) else None
        if isinstance(number, int) and not isinstance(number, bool) and 0 <= number < 2**63:
            numbers.add(number)
    return sorted(numbers)


def _lock_members(db: Connection, voters: list[str]) -> set[str]:
    """Lock the voters already known; returns them (new ones are added only if a vote
    of theirs is accepted: a refused vote writes nothing)."""
    return set(db.execute(_LOCK_MEMBERS, {"addresses": voters}).scalars())


def cast_votes(
    session: Session,
    ballots: Sequence[Ballot],
    allowance_of: AllowanceLookup | None = None,
) -> list[VoteReceipt | VoteRefused]:
    """Check and store ``ballots`` in ``session`` (the caller commits); one answer each.

    The answers are those the votes would get cast one by one in this order.
    """
    if len(ballots) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} votes a batch, got {len(ballots)}")
    db = session.connection()
    numbers = _round_numbers(ballots)
    rounds = {r.number: r for r in db.execute(_ROUNDS, {"numbers": numbers})} if numbers else {}
    answers: list[_Checked | VoteReceipt | VoteRefused] = [
        _check_alone(b, rounds, _aware(b.received_at)) for b in ballots
    ]
    checked = [a for a in answers if isinstance(a, _Checked)]
    if not checked:
        return answers  # type: ignore[return-value]

    round_set = sorted({c.vote.round for c in checked})
    works = sorted({c.vote.work for c in checked})
    in_pool = {
        (r.round, r.work) for r in db.execute(_IN_POOL, {"rounds": round_set, "works": works})
    }
    for i, answer in enumerate(answers):
        if isinstance(answer, _Checked) and (answer.vote.round, answer.vote.work) not in in_pool:
            work, number = answer.vote.work.hex(), answer.vote.round
            answers[i] = VoteRefused("not_in_pool", f"work 0x{work} is not in round {number}")
    checked = [a for a in answers if isinstance(a, _Checked)]
    if not checked:
        return answers  # type: ignore[return-value]

    voters = sorted({c.vote.voter for c in checked})
    known_members = _lock_members(db, voters)
    batch = _Batch(
        allowance_of, known=set(db.execute(_KNOWN, {"ids": [c.id for c in checked]}).scalars())
    )
    for row in db.execute(_CURRENT, {"rounds": round_set, "voters": voters}):
        batch.current.setdefault((row.round, row.voter), {})[row.work] = row
    for i, answer in enumerate(answers):
        if isinstance(answer, _Checked):
            answers[i] = batch.decide(answer)

    if batch.pending:
        accepted_voters = sorted({row["voter"] for row in batch.pending.values()})
        new = [v for v in accepted_voters if v not in known_members]
        if new:
            now = _aware(checked[0].ballot.received_at)
            db.execute(_ADD_MEMBER, [{"address": v, "created_at": now} for v in new])
    if batch.superseded:
        db.execute(_SUPERSEDE, [{"vote_id": vote_id} for vote_id in batch.superseded])
    if batch.pending:
        db.execute(_INSERT, list(batch.pending.values()))
    return answers  # type: ignore[return-value]


@dataclass
class _Batch:
    """What the checks of a batch know so far: read from the database once, then
    updated by every vote decided, so a later vote sees the earlier ones."""

    allowance_of: AllowanceLookup | None
    known: set[bytes]  # vote ids stored or accepted
    current: dict[tuple[int, str], dict[bytes, Any]] = field(default_factory=dict)
    allowances: dict[tuple[int, str], int] = field(default_factory=dict)
    spent: dict[tuple[int, str], int] = field(default_factory=dict)  # sum over current
    pending: dict[bytes, dict[str, Any]] = field(default_factory=dict)  # id -> row to insert
    superseded: list[bytes] = field(default_factory=list)  # stored votes no longer current

    def decide(self, checked: _Checked) -> VoteReceipt | VoteRefused:
        """Decide one vote against the batch's state so far, and update that state."""
        vote, vote_id, ballot = checked.vote, checked.id, checked.ballot
        key = (vote.round, vote.voter)
        if ballot.allowance is not None:
            self.allowances[key] = ballot.allowance.vp
        elif key not in self.allowances:
            if self.allowance_of is None:
                raise ValueError("a ballot without an allowance needs an allowance lookup")
            self.allowances[key] = self.allowance_of(vote.voter, checked.round).vp
        allowance = self.allowances[key]

        mine = self.current.setdefault(key, {})
        spent = self.spent.get(key)
        if spent is None:  # summed once per voter and batch, then kept up to date
            spent = self.spent[key] = sum(row.amount for row in mine.values())
        if vote_id in self.known:
            return VoteReceipt(vote_id, "duplicate", spent, allowance)

        previous = mine.get(vote.work)
        if previous is not None and vote.nonce <= previous.nonce:
            return VoteRefused(
                "stale_nonce",
                f"nonce {vote.nonce} is not newer than {previous.nonce} of your earlier vote",
            )
        spent_elsewhere = spent - (previous.amount if previous else 0)
        if spent_elsewhere + vote.amount > allowance:
            return VoteRefused(
                "over_budget",
                f"vote of {vote.amount} VP exceeds what is left: "
                f"{max(allowance - spent_elsewhere, 0)} of {allowance} VP",
            )

        if previous is not None:
            if previous.id in self.pending:  # replaced within this batch: store it, not current
                self.pending[previous.id]["current"] = False
            else:
                self.superseded.append(previous.id)
        row = {
            "id": vote_id,
            "round": vote.round,
            "voter": vote.voter,
            "work": vote.work,
            "direction": vote.direction,
            "amount": vote.amount,
            "nonce": vote.nonce,
            "signature": "0x" + parse_signature(ballot.signature).hex(),
            "current": True,
            "received_at": _aware(ballot.received_at),
        }
        self.pending[vote_id] = row
        self.known.add(vote_id)
        mine[vote.work] = _Current(vote_id, vote.amount, vote.nonce)
        self.spent[key] = spent_elsewhere + vote.amount
        return VoteReceipt(
            vote_id,
            "replaced" if previous else "accepted",
            spent_elsewhere + vote.amount,
            allowance,
        )


@dataclass(frozen=True)
class _Current:
    """A vote accepted earlier in the batch, as the current-votes query would show it."""

    id: bytes
    amount: int
    nonce: int
