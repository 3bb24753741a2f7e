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
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tastemaker.core.ballots import BallotError, Vote, VoteDomain, parse_signature, verify_vote
from tastemaker.core.voting_power import Allowance
from tastemaker.errors import TastemakerError
from tastemaker.rounds.states import OPENING, VOTING
from tastemaker.store.tables import Member, PoolEntry, Round, VoteRow

AllowanceLookup = Callable[[str, Round], Allowance]

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

    round_ = session.get(Round, vote.round)
    if round_ is None:
        raise VoteRefused("unknown_round", f"there is no round {vote.round}")
    domain = VoteDomain(round_.chain_id, round_.verifying_contract)
    try:
        vote_id = verify_vote(vote, domain, signature)
    except BallotError as exc:
        raise VoteRefused("bad_signature", str(exc)) from exc

    if now < _aware(round_.opens_at) or round_.state == OPENING:
        raise VoteRefused("round_not_open", f"round {vote.round} is not open for voting yet")
    if round_.state != VOTING or now >= _aware(round_.closes_at):
        raise VoteRefused("round_closed", f"round {vote.round} is closed for voting")

    in_pool = session.scalar(
        select(PoolEntry.work).where(PoolEntry.round == vote.round, PoolEntry.work == vote.work)
    )
    if in_pool is None:
        raise VoteRefused("not_in_pool", f"work 0x{vote.work.hex()} is not in round {vote.round}")

    # Lock the voter's row so two votes of one member cannot both pass the budget.
    member = session.get(Member, vote.voter, with_for_update=True)
    if member is None:
        member = Member(address=vote.voter)
        session.add(member)
        session.flush()

    allowance = allowance_of(vote.voter, round_).vp
    current = session.execute(
        select(VoteRow.id, VoteRow.work, VoteRow.amount, VoteRow.nonce).where(
            VoteRow.round == vote.round, VoteRow.voter == vote.voter, VoteRow.current.is_(True)
        )
    ).all()
    spent = sum(row.amount for row in current)
    if any(row.id == vote_id for row in current) or session.get(VoteRow, vote_id) is not None:
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
        session.execute(update(VoteRow).where(VoteRow.id == previous.id).values(current=False))
    session.add(
        VoteRow(
            id=vote_id,
            round=vote.round,
            voter=vote.voter,
            work=vote.work,
            direction=vote.direction,
            amount=vote.amount,
            nonce=vote.nonce,
            signature="0x" + parse_signature(signature).hex(),
            current=True,
            received_at=now,
        )
    )
    session.flush()
    return VoteReceipt(
        vote_id, "replaced" if previous else "accepted", spent_elsewhere + vote.amount, allowance
    )
