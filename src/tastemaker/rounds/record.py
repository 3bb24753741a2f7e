"""The public round record: everything needed to check a round without trusting us.

``export_round`` writes what ``tastemaker.core.audit.verify_record`` reads: the
vote domain, rules, pool, impression counts, every signed vote as received, each
voter's final allowance, the tally, the winner, the winner's token metadata (whose
hash is the token URI on chain and which commits to the whole vote set, decision
0051) and the reward epoch with the cumulative totals and the leaf indexes before
and after it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tastemaker.chain.deployment import Deployment
from tastemaker.core.audit import RECORD_FORMAT
from tastemaker.core.ballots import DOMAIN_NAME, DOMAIN_VERSION
from tastemaker.core.tally import TallyRow
from tastemaker.rounds import states
from tastemaker.rounds.metadata import winner_metadata
from tastemaker.rounds.service import (
    RoundError,
    get_round,
    impression_counts,
    reward_ledger,
    stored_outcome,
)
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import (
    AllowanceRecord,
    Auction,
    GenomeRow,
    PoolEntry,
    Reward,
    RewardEpoch,
    TallyRowRecord,
    VoteRow,
    Work,
)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def export_round(
    session: Session,
    number: int,
    media: MediaStore | None = None,
    deployment: Deployment | None = None,
) -> dict[str, Any]:
    """The public record of closed round ``number``. ``media``: for a text winner's
    card; ``deployment``: the contracts a checker reads (``verify --rpc-url``)."""
    round_ = get_round(session, number)
    if round_.state in (states.OPENING, states.VOTING, states.CLOSING):
        raise RoundError(f"round {number} is {round_.state}: only closed rounds are exported")
    pool = session.scalars(
        select(PoolEntry.work).where(PoolEntry.round == number).order_by(PoolEntry.position)
    ).all()
    impressions = impression_counts(session, number).items()
    votes = session.scalars(
        select(VoteRow).where(VoteRow.round == number).order_by(VoteRow.received_at, VoteRow.id)
    ).all()
    allowances = session.scalars(
        select(AllowanceRecord).where(AllowanceRecord.round == number)
    ).all()
    stored_tally = session.scalars(
        select(TallyRowRecord).where(TallyRowRecord.round == number).order_by(TallyRowRecord.rank)
    ).all()
    record: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "round": number,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": round_.chain_id,
            "verifyingContract": round_.verifying_contract,
        },
        "rules": round_.rules,
        "window": {
            "opens_at": round_.opens_at.isoformat(),
            "closes_at": round_.closes_at.isoformat(),
            "open_block": round_.open_block,
            "close_block": round_.close_block,
        },
        "pool": [_hex(w) for w in pool],
        "impressions": {_hex(w): n for w, n in impressions},
        "allowances": {
            a.member: {
                "min_stake": str(a.min_stake),
                "vp": str(a.vp),
                "earns_rewards": a.earns_rewards,
            }
            for a in allowances
        },
        "votes": [
            {
                "id": _hex(v.id),
                "message": {
                    "voter": v.voter,
                    "round": v.round,
                    "work": _hex(v.work),
                    "direction": v.direction,
                    "amount": str(v.amount),
                    "nonce": v.nonce,
                },
                "signature": v.signature,
            }
            for v in votes
        ],
        "tally": [_stored_row(r).to_json() for r in stored_tally],
        "winner": _hex(round_.winner) if round_.winner else None,
        "winner_recipe": _recipe(session, round_.winner) if round_.winner else None,
        "votes_to_flip": round_.votes_to_flip,
        "token_id": round_.token_id,
        # What the token URI on chain hashes: it carries the round commitment (0051).
        "token_metadata": winner_metadata(session, round_, media).to_json()
        if round_.winner
        else None,
    }
    auction = session.get(Auction, number)
    if auction is not None:
        record["auction"] = {
            "token_id": auction.token_id,
            "state": auction.state,
            "winner": auction.winner,
            "amount": str(auction.amount or 0),
            "voter_pool": str(auction.voter_pool or 0),
        }
    epoch = session.scalar(select(RewardEpoch).where(RewardEpoch.round == number))
    if epoch is not None:
        shares = session.scalars(select(Reward).where(Reward.epoch == epoch.epoch)).all()
        previous = reward_ledger(session, before_epoch=epoch.epoch)
        after = reward_ledger(session, before_epoch=epoch.epoch + 1)
        record["rewards"] = {
            "epoch": epoch.epoch,
            "pool": str(epoch.pool),
            "previous_cumulative": {a: str(v) for a, v in sorted(previous.cumulative.items())},
            "previous_indexes": dict(sorted(previous.indexes.items())),
            "shares": {r.account: str(r.amount) for r in sorted(shares, key=lambda r: r.account)},
            "cumulative": {a: str(v) for a, v in sorted(after.cumulative.items())},
            "indexes": dict(sorted(after.indexes.items())),
            "root": _hex(epoch.root),
            "posted": epoch.posted,
        }
    if deployment is not None:  # where a checker reads the chain (verify --rpc-url)
        record["contracts"] = {"block": deployment.block, "addresses": dict(deployment.addresses)}
    # The stored tally must be what the stored votes give: say so now, not at audit time.
    if [r.to_json() for r in stored_outcome(session, round_).tally] != record["tally"]:
        raise RoundError(f"round {number}: the stored tally does not match its votes")
    return record


def _recipe(session: Session, content_hash: bytes) -> dict[str, Any] | None:
    """What re-renders a work: engine, engine version, media type, size and genome
    (`tastemaker verify --render` checks that it gives the winner's bytes)."""
    work = session.get(Work, content_hash)
    genome = session.get(GenomeRow, work.genome_id) if work is not None else None
    if work is None or genome is None:
        return None
    return {
        "engine": genome.engine,
        "engine_version": genome.engine_version,
        "media_type": work.media_type,
        "size": work.size,
        "genome": genome.data,
    }


def _stored_row(row: TallyRowRecord) -> TallyRow:
    from fractions import Fraction

    return TallyRow(
        rank=row.rank,
        work=row.work,
        score=Fraction(int(row.score_num), int(row.score_den)),
        net_vp=int(row.net_vp),
        up_vp=row.up_vp,
        down_vp=row.down_vp,
        voters=row.voters,
        impressions=row.impressions,
        raw_rank=row.raw_rank,
    )
