"""The vote page's focus set: the pool works the exposure policy favours right now.

``rounds.exposure`` decides the focus from each work's live vote counts. Counting a
round's votes on every next-work request would cost a scan per click, so each server
process keeps the focus of a round for ``REFRESH_S`` seconds. A stale focus only
shifts which works are offered first; the database's fresh impression counts still
spread the views within it, and the tally never reads it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tastemaker.rounds.exposure import VOTE_PAGE, round_progress
from tastemaker.store.tables import PoolEntry, Round, VoteRow

REFRESH_S = 2.0

_lock = threading.Lock()
# (database URL, round) -> (expires, focus)
_cache: dict[tuple[str, int], tuple[float, frozenset[bytes]]] = {}


def focus_works(session: Session, number: int, now: datetime) -> frozenset[bytes]:
    """The content hashes in the round's focus, at most ``REFRESH_S`` seconds old."""
    clock = time.monotonic()
    key = (str(session.get_bind().url), number)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] > clock:
        return cached[1]
    focus = _compute(session, number, now)
    with _lock:
        _cache[key] = (clock + REFRESH_S, focus)
        for stale in [k for k, (expires, _) in _cache.items() if expires <= clock]:
            del _cache[stale]
    return focus


def forget() -> None:
    """Drop every cached focus (tests that change votes and look at once)."""
    with _lock:
        _cache.clear()


def _compute(session: Session, number: int, now: datetime) -> frozenset[bytes]:
    pool = list(
        session.scalars(
            select(PoolEntry.work).where(PoolEntry.round == number).order_by(PoolEntry.position)
        )
    )
    round_ = session.get(Round, number)
    if not pool or round_ is None:
        return frozenset()
    counts = session.execute(
        select(
            VoteRow.work,
            func.count(),
            func.sum(case((VoteRow.direction > 0, 1), else_=0)),
        )
        .where(VoteRow.round == number, VoteRow.current.is_(True))
        .group_by(VoteRow.work)
    ).all()
    index = {work: i for i, work in enumerate(pool)}
    votes = np.zeros(len(pool))
    ups = np.zeros(len(pool))
    for work, n, n_up in counts:
        if work in index:
            votes[index[work]], ups[index[work]] = n, n_up or 0
    progress = round_progress(
        _aware(round_.opens_at).timestamp(), _aware(round_.closes_at).timestamp(), now.timestamp()
    )
    return frozenset(pool[i] for i in VOTE_PAGE.focus(ups, votes, progress))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
