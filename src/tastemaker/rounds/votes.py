"""Vote intake: check a signed vote against every rule, then store it before saying yes.

Checks, in order: the message is well formed; the round exists; the signature is
the voter's, in this round's domain (chain id + contract); the round is open for
voting now; the work is in the round's pool; the nonce is newer than the voter's
earlier vote on that work; the VP spent stays within the voter's allowance. A later
vote on the same work replaces the earlier one (both stay stored; ``current``
marks the one that counts). Re-sending an accepted vote is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
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


# Statements are built once: on this hot path SQLAlchemy's statement construction
# costs more than SQLite's execution.
_rounds, _pool, _members, _votes = (
    Round.__table__.c,
    PoolEntry.__table__.c,
    Member.__table__.c,
    VoteRow.__table__.c,
)
_ROUND = select(
    _rounds.state,
    _rounds.chain_id,
    _rounds.verifying_contract,
    _rounds.opens_at,
    _rounds.closes_at,
).where(_rounds.number == bindparam("number"))
_IN_POOL = select(_pool.position).where(
    _pool.round == bindparam("round"), _pool.work == bindparam("work")
)
_LOCK_MEMBER = (
    select(_members.address).where(_members.address == bindparam("address")).with_for_update()
)
_ADD_MEMBER = insert(Member.__table__)
_CURRENT = select(_votes.id, _votes.work, _votes.amount, _votes.nonce).where(
    _votes.round == bindparam("round"),
    _votes.voter == bindparam("voter"),
    _votes.current.is_(True),
)
_KNOWN = select(_votes.round).where(_votes.id == bindparam("id"))
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
    now = _aware(now or datetime.now(UTC))
    try:
        vote = Vote.from_json(message)
    except BallotError as exc:
        raise VoteRefused("malformed", str(exc)) from exc

    db = session.connection()
    round_ = db.execute(_ROUND, {"number": vote.round}).one_or_none()
    if round_ is None:
        raise VoteRefused("unknown_round", f"there is no round {vote.round}")
    domain = vote_domain(round_.chain_id, round_.verifying_contract)
    try:
        vote_id = verify_vote(vote, domain, signature)
    except BallotError as exc:
        raise VoteRefused("bad_signature", str(exc)) from exc

    if now < _aware(round_.opens_at) or round_.state == OPENING:
        raise VoteRefused("round_not_open", f"round {vote.round} is not open for voting yet")
    if round_.state != VOTING or now >= _aware(round_.closes_at):
        raise VoteRefused("round_closed", f"round {vote.round} is closed for voting")

    if db.execute(_IN_POOL, {"round": vote.round, "work": vote.work}).first() is None:
        raise VoteRefused("not_in_pool", f"work 0x{vote.work.hex()} is not in round {vote.round}")

    # Lock the voter's row so two votes of one member cannot both pass the budget
    # (PostgreSQL; SQLite already lets one writer at a time).
    if db.execute(_LOCK_MEMBER, {"address": vote.voter}).first() is None:
        db.execute(_ADD_MEMBER, {"address": vote.voter, "created_at": now})

    allowance = allowance_of(vote.voter, round_).vp
    current = db.execute(_CURRENT, {"round": vote.round, "voter": vote.voter}).all()
    spent = sum(row.amount for row in current)
    if any(row.id == vote_id for row in current) or (
        db.execute(_KNOWN, {"id": vote_id}).first() is not None
    ):
        return VoteReceipt(vote_id, "duplicate", spent, allowance)

    previous = next((row for row in current if row.work == vote.work), None)
    if previous is not None and vote.nonce <= previous.nonce:
        raise VoteRefused(
            "stale_nonce",
            f"nonce {vote.nonce} is not newer than {previous.nonce} of your earlier vote",
        )
    spent_elsewhere = spent - (previous.amount if previous else 0)
    if spent_elsewhere + vote.amount > allowance:
        raise VoteRefused(
            "over_budget",
            f"vote of {vote.amount} VP exceeds what is left: "
            f"{max(allowance - spent_elsewhere, 0)} of {allowance} VP",
        )

    if previous is not None:
        db.execute(_SUPERSEDE, {"vote_id": previous.id})
    db.execute(
        _INSERT,
        {
            "id": vote_id,
            "round": vote.round,
            "voter": vote.voter,
            "work": vote.work,
            "direction": vote.direction,
            "amount": vote.amount,
            "nonce": vote.nonce,
            "signature": "0x" + parse_signature(signature).hex(),
            "current": True,
            "received_at": now,
        },
    )
    return VoteReceipt(
        vote_id, "replaced" if previous else "accepted", spent_elsewhere + vote.amount, allowance
    )
