"""The voter's two requests per work (next work, signed vote) as one group commit.

Both routes hand their database work to one writer thread per process
(``rounds.intake.GroupCommit``): a batch checks every request's session against
its row in ``web_siwe_nonces`` (one query), stores the votes (``cast_votes``),
then picks and records the next works (``show_next``), and commits once. Nothing
is answered before that commit, so an acknowledged vote or impression is stored
(SQLite: fsynced, ``synchronous=FULL``). The routes stay on the event loop and
wait on the batch's future: no worker thread per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tastemaker.rounds.intake import GroupCommit
from tastemaker.rounds.showing import ShowRequest, show_next
from tastemaker.rounds.votes import Ballot, cast_votes
from tastemaker.store.db import Database
from tastemaker.store.tables import SiweNonce
from tastemaker.web.problems import Problem

_nonces = SiweNonce.__table__.c
_LIVE = select(_nonces.nonce).where(
    _nonces.nonce.in_(bindparam("sids", expanding=True)),
    _nonces.used_at.is_not(None),
    _nonces.expires_at > bindparam("now"),
)


@dataclass(frozen=True)
class SignedIn:
    """What the session cookie says (its signature checked): who, and which sign-in."""

    address: str
    sid: str


@dataclass(frozen=True)
class VoteJob:
    session: SignedIn
    ballot: Ballot


@dataclass(frozen=True)
class NextJob:
    session: SignedIn
    request: ShowRequest


Job = VoteJob | NextJob


def not_signed_in() -> Problem:
    return Problem(401, "not_signed_in", "sign in with your wallet first")


def _when(job: Job) -> datetime:
    return job.ballot.received_at if isinstance(job, VoteJob) else job.request.at


def handle(session: Session, jobs: Sequence[Job]) -> list[object]:
    """One batch: sessions, then votes, then next works (which see the batch's votes)."""
    now = max(_when(job) for job in jobs)  # the strictest expiry check of the batch
    sids = sorted({job.session.sid for job in jobs})
    live = set(session.execute(_LIVE, {"sids": sids, "now": now}).scalars())
    answers: list[object] = [None] * len(jobs)
    votes: list[tuple[int, Ballot]] = []
    shows: list[tuple[int, ShowRequest]] = []
    for i, job in enumerate(jobs):
        if job.session.sid not in live:
            answers[i] = not_signed_in()
        elif isinstance(job, VoteJob):
            voter = job.ballot.message["voter"]
            if voter.lower() != job.session.address.lower():
                answers[i] = Problem(
                    403,
                    "not_your_vote",
                    f"you are signed in as {job.session.address}; this vote is for {voter}",
                )
            else:
                # The voter as the session names it (EIP-55): the letter case is not
                # signed (EIP-712 encodes an address as 20 bytes): the same vote.
                ballot = job.ballot
                message = ballot.message | {"voter": job.session.address}
                votes.append(
                    (i, Ballot(message, ballot.signature, ballot.received_at, ballot.allowance))
                )
        else:
            shows.append((i, job.request))
    if votes:
        for (i, _), answer in zip(votes, cast_votes(session, [b for _, b in votes]), strict=True):
            answers[i] = answer
    if shows:
        for (i, _), answer in zip(shows, show_next(session, [r for _, r in shows]), strict=True):
            answers[i] = answer
    return answers


class WebIntake(GroupCommit[Job]):
    def __init__(self, db: Database, max_batch: int = 256) -> None:
        super().__init__(db, handle, max_batch)
