"""What the vote page shows next, and the impressions that showing records.

``pick_next`` is the policy (``rounds.exposure``, decision 0031), alone in one pure
function: it gets the round's pool with each work's exposure so far, what this
member has seen and voted on and the policy's focus, and names one work.

``show_next`` answers a batch of requests in one transaction (the group commit of
``rounds.intake``): a handful of statements for the whole batch (the rounds, the
pools' counters, the members' impressions and current votes), the picks in
Python, then one insert of the new impressions and one counter update per shown
work. Requests of one batch are decided in order, so a member with two in the same
batch is shown two works, and the second pick sees the first's exposure.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tastemaker.rounds.exposure import VOTE_PAGE
from tastemaker.rounds.focus import focus_works
from tastemaker.rounds.states import VOTING
from tastemaker.store.tables import Impression, PoolEntry, Round, VoteRow


@dataclass
class PoolWork:
    """A work of the round's pool as a policy sees it: pool order and exposure."""

    work: bytes
    position: int
    shown: int  # members shown it so far (pool_entries.shown)


def pick_next(
    pool: Sequence[PoolWork],
    seen: Set[bytes],
    voted: Set[bytes],
    focus: Set[bytes] = frozenset(),
) -> bytes | None:
    """The vote page's policy (``rounds.exposure``, decision 0031): a work this member
    has not been shown yet, works below the minimum of impressions first, then the
    works in ``focus``, then the rest, the least shown first within each, then pool
    order; once every work has been shown, the first in pool order they have not
    voted on; None when they have voted on everything."""
    best: PoolWork | None = None
    best_key: tuple[int, int, int] | None = None
    for entry in pool:
        if entry.work in seen:
            continue
        key = (VOTE_PAGE.tier(entry.shown, entry.work in focus), entry.shown, entry.position)
        if best_key is None or key < best_key:
            best, best_key = entry, key
    if best is not None:
        return best.work
    for entry in sorted(pool, key=lambda e: e.position):
        if entry.work not in voted:
            return entry.work
    return None


@dataclass(frozen=True)
class ShowRequest:
    round: int
    member: str  # EIP-55
    at: datetime


@dataclass(frozen=True)
class Shown:
    """The answer to one request: the work (None when nothing is left to show) and
    the member's standing in the round after it."""

    work: bytes | None
    seen: int  # works this member has been shown in the round
    total: int  # works in the pool
    votes: dict[bytes, Any]  # the member's current votes: work -> row (direction, amount, nonce)


class ShowRefused(Exception):
    """The round cannot be shown from: unknown (``unknown_round``) or not voting
    (``round_closed``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_rounds, _pool, _imp, _votes = (
    Round.__table__.c,
    PoolEntry.__table__.c,
    Impression.__table__.c,
    VoteRow.__table__.c,
)
_ROUND_STATES = select(_rounds.number, _rounds.state).where(
    _rounds.number.in_(bindparam("numbers", expanding=True))
)
# FOR UPDATE (PostgreSQL; SQLite's writer already holds the database lock): batches of
# two processes for one round take turns, so the second reads the impressions the first
# recorded and never shows a member the same work twice.
_POOL = (
    select(_pool.work, _pool.position, _pool.shown)
    .where(_pool.round == bindparam("round"))
    .order_by(_pool.position)
    .with_for_update()
)
_SEEN = select(_imp.member, _imp.work).where(
    _imp.round == bindparam("round"), _imp.member.in_(bindparam("members", expanding=True))
)
_VOTES = select(_votes.voter, _votes.work, _votes.direction, _votes.amount, _votes.nonce).where(
    _votes.round == bindparam("round"),
    _votes.voter.in_(bindparam("members", expanding=True)),
    _votes.current.is_(True),
)
_COUNT = (
    update(PoolEntry.__table__)
    .where(_pool.round == bindparam("r"), _pool.work == bindparam("w"))
    .values(shown=_pool.shown + bindparam("n"))
)


_INSERT = {
    name: module.insert(Impression.__table__)
    .on_conflict_do_nothing(index_elements=["round", "member", "work"])
    .returning(_imp.round, _imp.work)
    for name, module in (("sqlite", sqlite), ("postgresql", postgresql))
}


@dataclass
class _RoundState:
    pool: list[PoolWork]
    focus: frozenset[bytes]  # the exposure policy's focus (rounds.focus, seconds old)
    seen: dict[str, set[bytes]] = field(default_factory=dict)
    votes: dict[str, dict[bytes, Any]] = field(default_factory=dict)


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, bytes]]:
    """Insert impressions, skipping any another process recorded first (the same
    member in two tabs on two servers); returns (round, work) of each row inserted.
    One cached statement run over the rows (SQLAlchemy batches them into multi-row
    INSERTs with RETURNING)."""
    dialect = session.get_bind().dialect.name
    return [(row.round, row.work) for row in session.execute(_INSERT[dialect], rows)]


def show_next(session: Session, requests: Sequence[ShowRequest]) -> list[Shown | ShowRefused]:
    """Pick and record the next work for each request, in order (the caller commits)."""
    numbers = sorted({r.round for r in requests})
    states: dict[int, str] = dict(session.execute(_ROUND_STATES, {"numbers": numbers}).all())
    rounds: dict[int, _RoundState] = {}
    for number in numbers:
        if states.get(number) != VOTING:
            continue
        pool = [PoolWork(*row) for row in session.execute(_POOL, {"round": number})]
        at = max(r.at for r in requests if r.round == number)
        state = rounds[number] = _RoundState(pool, focus_works(session, number, at))
        members = sorted({r.member for r in requests if r.round == number})
        for member, work in session.execute(_SEEN, {"round": number, "members": members}):
            state.seen.setdefault(member, set()).add(work)
        for row in session.execute(_VOTES, {"round": number, "members": members}):
            state.votes.setdefault(row.voter, {})[row.work] = row

    answers: list[Shown | ShowRefused] = []
    new: list[dict[str, Any]] = []
    for request in requests:
        state = rounds.get(request.round)
        if state is None:
            known = request.round in states
            answers.append(
                ShowRefused("round_closed", f"round {request.round} is not open for voting")
                if known
                else ShowRefused("unknown_round", f"there is no round {request.round}")
            )
            continue
        seen = state.seen.setdefault(request.member, set())
        votes = state.votes.get(request.member, {})
        work = pick_next(state.pool, seen, votes.keys(), state.focus)
        if work is not None and work not in seen:
            seen.add(work)
            entry = next(e for e in state.pool if e.work == work)
            entry.shown += 1  # the next pick of this batch sees it
            new.append({"round": request.round, "member": request.member, "work": work})
            new[-1]["shown_at"] = request.at
        answers.append(Shown(work, len(seen), len(state.pool), dict(votes)))

    if new:
        # One order for every process (PostgreSQL row locks: no deadlock between batches).
        new.sort(key=lambda row: (row["round"], row["member"], row["work"]))
        counts: dict[tuple[int, bytes], int] = {}
        for key in _insert_new(session, new):
            counts[key] = counts.get(key, 0) + 1
        if counts:
            session.execute(
                _COUNT, [{"r": r, "w": w, "n": n} for (r, w), n in sorted(counts.items())]
            )
    return answers
