"""Read-side queries for the API and the pages (one function per question asked).

Write paths stay in the round service (``cast_vote``); the one write here is the
impression recorded when a work is shown, which is what the curation policy and
the exposure-corrected tally need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tastemaker.core.outcome import latest_votes
from tastemaker.core.tally import CountedVote, TallyRow, rank_pool
from tastemaker.rounds import states
from tastemaker.rounds.exposure import BELOW_MINIMUM, IN_FOCUS, REST, VOTE_PAGE
from tastemaker.rounds.focus import focus_works
from tastemaker.rounds.service import impression_counts, record_impression, stored_votes
from tastemaker.store.tables import (
    Auction,
    GenomeRow,
    Impression,
    ModelVersion,
    PoolEntry,
    Reward,
    Round,
    TallyRowRecord,
    VoteRow,
    Work,
)

LEADERBOARD_WINDOW = timedelta(hours=24)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def current_round(session: Session) -> Round | None:
    """The round being voted on, else the newest one."""
    voting = session.scalar(
        select(Round).where(Round.state == states.VOTING).order_by(Round.number.desc()).limit(1)
    )
    return voting or session.scalar(select(Round).order_by(Round.number.desc()).limit(1))


def round_json(round_: Round, now: datetime) -> dict[str, Any]:
    closes = aware(round_.closes_at)
    return {
        "number": round_.number,
        "state": round_.state,
        "chain_id": round_.chain_id,
        "verifying_contract": round_.verifying_contract,
        "opens_at": aware(round_.opens_at).isoformat(),
        "closes_at": closes.isoformat(),
        "seconds_left": max(int((closes - now).total_seconds()), 0)
        if round_.state == states.VOTING
        else 0,
        "leaderboard_visible": leaderboard_visible(round_, now),
        "winner": hex32(round_.winner) if round_.winner else None,
        "token_id": round_.token_id,
        "rules": round_.rules,
        # How close the vote was: the fewest counted votes found whose removal changes
        # the winner (core.flip, an upper bound); None before close or with no winner.
        "votes_to_flip": (round_.votes_to_flip or {}).get("count"),
    }


def leaderboard_visible(round_: Round, now: datetime) -> bool:
    """During voting the standings show only in the final 24 h (so early votes do not
    herd later ones); after close they are public."""
    if round_.state != states.VOTING:
        return True
    return now >= aware(round_.closes_at) - LEADERBOARD_WINDOW


def work_json(work: Work) -> dict[str, Any]:
    return {
        "content_hash": hex32(work.content_hash),
        "cid": work.cid,
        "genome_id": work.genome_id,
        "size": work.size,
        "round_created": work.round_created,
        "image_url": f"/api/works/{hex32(work.content_hash)}/image",
    }


def pool_size(session: Session, number: int) -> int:
    return (
        session.scalar(select(func.count()).select_from(PoolEntry).where(PoolEntry.round == number))
        or 0
    )


def pool_page(session: Session, number: int, offset: int, limit: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Work, PoolEntry.position, PoolEntry.reason)
        .join(PoolEntry, PoolEntry.work == Work.content_hash)
        .where(PoolEntry.round == number)
        .order_by(PoolEntry.position)
        .offset(offset)
        .limit(limit)
    ).all()
    return [work_json(w) | {"position": p, "reason": r} for w, p, r in rows]


@dataclass(frozen=True)
class NextWork:
    work: Work | None
    seen: int
    total: int


def _tier(session: Session, number: int, now: datetime) -> Any:
    """The exposure tier of a pool entry, as SQL (``ExposurePolicy.tiers``)."""
    focus = focus_works(session, number, now)
    whens: list[Any] = [(PoolEntry.shown < VOTE_PAGE.min_impressions, BELOW_MINIMUM)]
    if focus:
        whens.append((PoolEntry.work.in_(sorted(focus)), IN_FOCUS))
    return case(*whens, else_=REST)


def next_work(session: Session, number: int, member: str, now: datetime) -> NextWork:
    """The exposure policy of the vote page (``rounds.exposure``, decision 0031): a
    work this member has not been shown yet, works below the minimum of impressions
    first, then the policy's focus, then the rest, the least shown first within each;
    once every work has been shown, one they have not voted on. Records the
    impression of the work it returns. The database picks the work (LIMIT 1) from
    fresh impression counts; the focus is a per-process snapshot (``rounds.focus``)."""
    total = pool_size(session, number)
    seen = (
        session.scalar(
            select(func.count())
            .select_from(Impression)
            .where(Impression.round == number, Impression.member == member)
        )
        or 0
    )
    shown_to_member = (
        select(Impression.id)
        .where(
            Impression.round == number,
            Impression.member == member,
            Impression.work == PoolEntry.work,
        )
        .correlate(PoolEntry)
        .exists()
    )
    choice = session.scalar(
        select(Work)
        .join(PoolEntry, PoolEntry.work == Work.content_hash)
        .where(PoolEntry.round == number, ~shown_to_member)
        .order_by(_tier(session, number, now), PoolEntry.shown, PoolEntry.position)
        .limit(1)
    )
    if choice is not None:
        # False when the same member's other tab recorded it first: still theirs to see.
        record_impression(session, number, member, choice.content_hash, now)
        return NextWork(choice, seen + 1, total)
    voted_by_member = (
        select(VoteRow.id)
        .where(
            VoteRow.round == number,
            VoteRow.voter == member,
            VoteRow.work == PoolEntry.work,
            VoteRow.current.is_(True),
        )
        .correlate(PoolEntry)
        .exists()
    )
    unvoted = session.scalar(
        select(Work)
        .join(PoolEntry, PoolEntry.work == Work.content_hash)
        .where(PoolEntry.round == number, ~voted_by_member)
        .order_by(PoolEntry.position)
        .limit(1)
    )
    return NextWork(unvoted, seen, total)


def member_votes(session: Session, number: int, member: str) -> dict[bytes, VoteRow]:
    rows = session.scalars(
        select(VoteRow).where(
            VoteRow.round == number, VoteRow.voter == member, VoteRow.current.is_(True)
        )
    )
    return {row.work: row for row in rows}


def spent(session: Session, number: int, member: str) -> int:
    return sum(v.amount for v in member_votes(session, number, member).values())


def _tally_json(row: TallyRow | TallyRowRecord) -> dict[str, Any]:
    if isinstance(row, TallyRowRecord):
        num, den = int(row.score_num), int(row.score_den)
        net = int(row.net_vp)
    else:
        num, den, net = row.score.numerator, row.score.denominator, row.net_vp
    return {
        "rank": row.rank,
        "work": hex32(row.work),
        "image_url": f"/api/works/{hex32(row.work)}/image",
        "score": f"{num}/{den}",
        "score_float": num / den,
        "net_vp": str(net),
        "up_vp": str(row.up_vp),
        "down_vp": str(row.down_vp),
        "voters": row.voters,
        "impressions": row.impressions,
        "raw_rank": row.raw_rank,
    }


def leaderboard(session: Session, round_: Round) -> tuple[bool, list[dict[str, Any]]]:
    """(final, rows): the stored tally of a closed round, or live standings from the
    current votes (before close the VP caps are not final, so these are provisional)."""
    stored = list(
        session.scalars(
            select(TallyRowRecord)
            .where(TallyRowRecord.round == round_.number)
            .order_by(TallyRowRecord.rank)
        )
    )
    if stored:
        return True, [_tally_json(r) for r in stored]
    votes = stored_votes(session, round_.number)
    counted = [CountedVote(v.voter, v.work, v.direction, v.amount) for v in latest_votes(votes)]
    pool = list(session.scalars(select(PoolEntry.work).where(PoolEntry.round == round_.number)))
    impressions = impression_counts(session, round_.number)
    rows = rank_pool(pool, counted, impressions, round_.rules)
    return False, [_tally_json(r) for r in rows]


def past_winners(session: Session, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Round, Work, Auction)
        .join(Work, Work.content_hash == Round.winner)
        .outerjoin(Auction, Auction.round == Round.number)
        .where(Round.winner.is_not(None))
        .order_by(Round.number.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [
        work_json(work)
        | {
            "round": round_.number,
            "token_id": round_.token_id,
            "auction_state": auction.state if auction else None,
            "sold_for": str(auction.amount) if auction and auction.amount is not None else None,
            "collector": auction.winner if auction else None,
        }
        for round_, work, auction in rows
    ]


def lineage(session: Session, work: Work) -> list[dict[str, Any]]:
    """The parents of a work's genome and the works rendered from each of them."""
    genome = session.get(GenomeRow, work.genome_id)
    if genome is None:
        return []
    parents = []
    for parent_id in genome.parents:
        works = session.scalars(select(Work).where(Work.genome_id == parent_id).limit(4)).all()
        parents.append({"genome_id": parent_id, "works": [work_json(w) for w in works]})
    return parents


def reward_history(session: Session, account: str) -> list[dict[str, Any]]:
    from tastemaker.store.tables import RewardEpoch

    rows = session.execute(
        select(Reward, RewardEpoch.round)
        .join(RewardEpoch, RewardEpoch.epoch == Reward.epoch)
        .where(Reward.account == account)
        .order_by(Reward.epoch.desc())
    ).all()
    return [
        {
            "epoch": r.epoch,
            "round": number,
            "vp_spent": str(r.vp_spent),
            "amount": str(r.amount),
            "cumulative": str(r.cumulative),
        }
        for r, number in rows
    ]


def model_cards(session: Session, offset: int, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ModelVersion)
        .order_by(ModelVersion.round.desc(), ModelVersion.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [
        {
            "id": m.id,
            "round": m.round,
            "card": m.card,
            "created_at": aware(m.created_at).isoformat(),
        }
        for m in rows
    ]


def member_profile(session: Session, address: str) -> dict[str, Any]:
    # Amounts are uint256 stored as text: summed here, not in SQL.
    per_round: dict[int, list[int]] = {}
    for number, amount in session.execute(
        select(VoteRow.round, VoteRow.amount).where(
            VoteRow.voter == address, VoteRow.current.is_(True)
        )
    ):
        per_round.setdefault(number, []).append(amount)
    return {
        "address": address,
        "rounds": [
            {"round": number, "votes": len(amounts), "vp_spent": str(sum(amounts))}
            for number, amounts in sorted(per_round.items(), reverse=True)
        ],
        "rewards": reward_history(session, address),
    }
