"""The weekly round as a persisted state machine over the store and the chain.

    opening -> voting -> closing -> auction -> settling -> settled

Each use case below moves one round forward. Every step first looks at what is
already done (in the database and on the chain) and does only the rest, and every
chain call it makes is idempotent (a work minted once per content hash, an auction
started once per token, a root posted once per epoch), so a process killed in the
middle of any step can simply run it again: no double mint, no double root, no lost
vote. ``checkpoint`` names the points between side effects; tests crash there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tastemaker.chain.client import ChainClient
from tastemaker.core.merkle import RewardTree, assign_indexes
from tastemaker.core.outcome import RoundOutcome, StoredVote, reward_epoch, round_outcome
from tastemaker.core.rewards import share_of
from tastemaker.core.voting_power import Allowance, allowance
from tastemaker.errors import TastemakerError
from tastemaker.generate.backends import Backend
from tastemaker.generate.batch import generate_works
from tastemaker.generate.genome import Genome
from tastemaker.rounds import crashpoints, reconcile, states
from tastemaker.rounds.curation import Candidate, Curator, History, PastVote
from tastemaker.rounds.metadata import winner_metadata
from tastemaker.rounds.settings import RoundSettings
from tastemaker.store.db import Database
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import (
    AllowanceRecord,
    Auction,
    GenomeRow,
    Impression,
    ModelVersion,
    PoolEntry,
    Reward,
    RewardEpoch,
    Round,
    TallyRowRecord,
    VoteRow,
    Work,
)


class RoundError(TastemakerError):
    """A step asked of a round that is not in a state to take it."""


def _no_checkpoint(name: str) -> None:
    return None


@dataclass
class RoundContext:
    """What the use cases work with: the adapters plus the deployment's settings."""

    db: Database
    chain: ChainClient
    media: MediaStore
    settings: RoundSettings
    curator: Curator
    home: Path
    engine_name: str = "cppn"
    workers: int | None = None
    backend: Backend | None = None  # where candidates are made (None: this machine)
    checkpoint: Callable[[str], None] = field(default=_no_checkpoint)
    on_progress: Callable[[int], None] | None = None

    def __post_init__(self) -> None:
        if self.checkpoint is _no_checkpoint:  # test-only crash points, off unless set
            self.checkpoint = crashpoints.from_env(self.chain) or _no_checkpoint


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def get_round(session: Session, number: int) -> Round:
    round_ = session.get(Round, number)
    if round_ is None:
        raise RoundError(f"there is no round {number}")
    return round_


def latest_round(session: Session) -> Round | None:
    return session.scalar(select(Round).order_by(Round.number.desc()).limit(1))


# ----------------------------------------------------------------------------- open


def _round_seed(settings: RoundSettings, number: int) -> int:
    digest = hashlib.sha256(f"{settings.seed}:{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _candidate(session: Session, media: MediaStore, work: Work) -> Candidate:
    genome = session.get(GenomeRow, work.genome_id)
    assert genome is not None
    return Candidate(
        work.content_hash,
        Genome(genome.engine, genome.data, tuple(genome.parents)),
        media.media_path(work.cid, work.media_type),
        work.media_type,
    )


def pool_candidates(session: Session, media: MediaStore, number: int) -> list[Candidate]:
    works = session.scalars(
        select(Work)
        .join(PoolEntry, PoolEntry.work == Work.content_hash)
        .where(PoolEntry.round == number)
        .order_by(PoolEntry.position)
    ).all()
    return [_candidate(session, media, w) for w in works]


def load_history(session: Session, media: MediaStore) -> History:
    """Counted votes of every round so far, the works they name, and the winners."""
    rows = session.execute(
        select(VoteRow.round, VoteRow.voter, VoteRow.work, VoteRow.direction, VoteRow.amount)
        .where(VoteRow.current.is_(True))
        .order_by(VoteRow.round, VoteRow.voter, VoteRow.work)
    ).all()
    votes = [PastVote(*row) for row in rows]
    named = {v.work for v in votes}
    winners = list(
        session.scalars(
            select(Round.winner).where(Round.winner.is_not(None)).order_by(Round.number)
        )
    )
    works = session.scalars(select(Work).where(Work.content_hash.in_(named | set(winners))))
    return History(votes, {w.content_hash: _candidate(session, media, w) for w in works}, winners)


def open_round(ctx: RoundContext, now: datetime | None = None) -> int:
    """Learn from past votes, generate and curate candidates, and open voting."""
    now = _aware(now or utcnow())
    settings = ctx.settings
    with ctx.db.unit_of_work() as session:
        last = latest_round(session)
        if last is not None and last.state != states.SETTLED:
            raise RoundError(
                f"round {last.number} is still {last.state}: close and settle it first"
            )
        number = 1 if last is None else last.number + 1
        history = load_history(session, ctx.media)
        previous_pool = [
            c
            for c in (pool_candidates(session, ctx.media, last.number) if last else [])
            if c.work != last.winner  # the winner is sold: it leaves the pool
        ]

    card = ctx.curator.learn(history, number)
    parents = ctx.curator.parents(history, max(settings.new_works // 4, 2))
    ctx.checkpoint("learned")
    manifest = ctx.home / "rounds" / f"{number:05d}" / "candidates.jsonl"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    records = generate_works(
        settings.candidates,
        settings.image_size,
        _round_seed(settings, number),
        ctx.media.root,
        engine_name=ctx.engine_name,
        parents=parents,
        workers=ctx.workers,
        on_progress=ctx.on_progress,
        manifest=manifest,
        backend=ctx.backend,
    )
    ctx.checkpoint("generated")
    candidates = [
        Candidate(bytes.fromhex(r.sha256), r.to_genome(), ctx.media.root / r.file, r.media_type)
        for r in records
    ]
    # A child can make the very bytes of a work still in the pool, and an engine that
    # draws from a fixed set (submissions) can draw a work shown before: offer each
    # work in one pool only, and never a winner again.
    pooled = {c.work for c in previous_pool}
    hashes = [c.work for c in candidates]
    shown_before: set[bytes] = set()
    with ctx.db.unit_of_work() as session:
        for start in range(0, len(hashes), 900):  # under every database's bound-variable cap
            chunk = hashes[start : start + 900]
            shown_before.update(
                session.scalars(select(Work.content_hash).where(Work.content_hash.in_(chunk)))
            )
    candidates = [c for c in candidates if c.work not in pooled and c.work not in shown_before]
    rng = np.random.default_rng([settings.seed, number, 1])
    choices = ctx.curator.curate(
        candidates, previous_pool, settings.new_works, settings.pool_size, rng
    )
    seen: set[bytes] = set()
    choices = [c for c in choices if not (c.work in seen or seen.add(c.work))]  # first wins
    contract = ctx.chain.deployment.addresses["works"]
    open_block = ctx.chain.block_number()

    by_hash = {bytes.fromhex(r.sha256): r for r in records}
    with ctx.db.unit_of_work() as session:
        if session.get(Round, number) is not None:
            return number  # another run of this step got here first
        for record in records:
            if session.get(GenomeRow, record.id) is None:
                session.add(
                    GenomeRow(
                        id=record.id,
                        engine=record.engine,
                        engine_version=record.engine_version,
                        data=record.genome,
                        parents=record.parents,
                    )
                )
        session.flush()
        for choice in choices:
            record = by_hash.get(choice.work)
            if record is not None and session.get(Work, choice.work) is None:
                session.add(
                    Work(
                        content_hash=choice.work,
                        cid=record.cid,
                        genome_id=record.id,
                        media_type=record.media_type,
                        size=record.size,
                        round_created=number,
                    )
                )
        session.add(
            Round(
                number=number,
                state=states.VOTING,
                chain_id=ctx.chain.chain_id,
                verifying_contract=contract,
                opens_at=now,
                closes_at=now + timedelta(seconds=settings.voting_seconds),
                open_block=open_block,
                rules=settings.rules_json(),
            )
        )
        session.flush()
        for position, choice in enumerate(choices):
            session.add(
                PoolEntry(round=number, work=choice.work, position=position, reason=choice.reason)
            )
        if card is not None:
            session.add(ModelVersion(round=number, path=str(card.get("path", "")), card=card))
    return number


# ----------------------------------------------------------------------------- close


def _allowances(
    ctx: RoundContext, round_: Round, voters: list[str]
) -> dict[str, tuple[int, Allowance]]:
    rules = RoundSettings.model_validate(
        {
            "vp_curve": round_.rules["vp_curve"],
            "baseline_vp": int(round_.rules["baseline_vp"]),
            "min_stake_to_earn": int(round_.rules["min_stake_to_earn"]),
        }
    ).voting_rules()
    assert round_.open_block is not None and round_.close_block is not None
    stakes = ctx.chain.min_stakes_between(voters, round_.open_block, round_.close_block)
    return {v: (stakes[v], allowance(stakes[v], rules)) for v in voters}


def stored_votes(session: Session, number: int) -> list[StoredVote]:
    """Every vote received in round ``number``, as checked and stored at intake."""
    return [
        StoredVote(*row)
        for row in session.execute(
            select(
                VoteRow.voter, VoteRow.work, VoteRow.direction, VoteRow.amount, VoteRow.nonce
            ).where(VoteRow.round == number)
        )
    ]


def record_impression(
    session: Session, number: int, member: str, work: bytes, shown_at: datetime | None = None
) -> bool:
    """Record that ``member`` was shown ``work`` in round ``number``, once, and count it
    in the work's ``shown``; False if it was recorded already (another tab, a retry)."""
    try:
        with session.begin_nested():
            session.add(
                Impression(round=number, member=member, work=work, shown_at=shown_at or utcnow())
            )
            session.flush()
            session.execute(
                update(PoolEntry)
                .where(PoolEntry.round == number, PoolEntry.work == work)
                .values(shown=PoolEntry.shown + 1)
            )
    except IntegrityError:
        return False
    return True


def impression_counts(session: Session, number: int) -> dict[bytes, int]:
    """How many members were shown each work of round ``number``."""
    return dict(
        session.execute(
            select(Impression.work, func.count())
            .where(Impression.round == number)
            .group_by(Impression.work)
            .order_by(Impression.work)
        ).all()
    )


def stored_outcome(session: Session, round_: Round) -> RoundOutcome:
    """Recompute the round's outcome from its stored votes, impressions and allowances."""
    votes = stored_votes(session, round_.number)
    pool = list(session.scalars(select(PoolEntry.work).where(PoolEntry.round == round_.number)))
    impressions = impression_counts(session, round_.number)
    allowances = {
        a.member: Allowance(a.vp, a.earns_rewards)
        for a in session.scalars(
            select(AllowanceRecord).where(AllowanceRecord.round == round_.number)
        )
    }
    return round_outcome(pool, votes, impressions, allowances, rules=round_.rules)


def close_round(
    ctx: RoundContext, number: int, now: datetime | None = None, force: bool = False
) -> str:
    """Tally, mint the winner and start its auction. Returns the round's new state."""
    now = _aware(now or utcnow())
    with ctx.db.unit_of_work() as session:
        state = get_round(session, number).state
    if state not in (states.VOTING, states.CLOSING, states.AUCTION):
        return state
    reconcile.begin(ctx, number)
    with ctx.db.unit_of_work() as session:
        round_ = get_round(session, number)
        if round_.state == states.VOTING:
            if now < _aware(round_.closes_at) and not force:
                raise RoundError(f"round {number} is open for voting until {round_.closes_at}")
            round_.state = states.CLOSING
            round_.close_block = ctx.chain.block_number()
        reconcile.check_close_block(ctx, round_)
    ctx.checkpoint("closing")

    with ctx.db.unit_of_work() as session:
        round_ = get_round(session, number)
        tallied = session.scalar(
            select(func.count()).select_from(TallyRowRecord).where(TallyRowRecord.round == number)
        )
        if not tallied:
            voters = sorted(
                set(session.scalars(select(VoteRow.voter).where(VoteRow.round == number)))
            )
            for voter, (stake, grant) in _allowances(ctx, round_, voters).items():
                session.add(
                    AllowanceRecord(
                        round=number,
                        member=voter,
                        min_stake=stake,
                        vp=grant.vp,
                        earns_rewards=grant.earns_rewards,
                    )
                )
            session.flush()
            outcome = stored_outcome(session, round_)
            for row in outcome.tally:
                session.add(
                    TallyRowRecord(
                        round=number,
                        rank=row.rank,
                        work=row.work,
                        score_num=str(row.score.numerator),
                        score_den=str(row.score.denominator),
                        net_vp=str(row.net_vp),
                        up_vp=row.up_vp,
                        down_vp=row.down_vp,
                        voters=row.voters,
                        impressions=row.impressions,
                        raw_rank=row.raw_rank,
                    )
                )
            round_.winner = outcome.winner
            flip = outcome.votes_to_flip()
            round_.votes_to_flip = flip.to_json() if flip else None
            if outcome.winner is None:
                round_.state = states.SETTLING  # nothing to mint or auction
        winner, token_id = round_.winner, round_.token_id
        if winner is None:
            return round_.state
        # With the round commitment (decision 0051); export rebuilds the same bytes.
        metadata = winner_metadata(session, round_, ctx.media)
    ctx.checkpoint("tallied")

    token_id = reconcile.winner_token(ctx, number, winner, token_id)
    if token_id is None:
        ctx.media.put_bytes(metadata.to_bytes(), "json")
        auction_house = ctx.chain.contract("auction").address
        token_id = ctx.chain.mint_work(auction_house, winner, metadata.uri())
        ctx.checkpoint("minted")
        with ctx.db.unit_of_work() as session:
            get_round(session, number).token_id = token_id

    auction = ctx.chain.start_auction(token_id)
    ctx.checkpoint("auction_started")
    with ctx.db.unit_of_work() as session:
        row = session.get(Auction, number)
        if row is None:
            session.add(
                Auction(
                    round=number,
                    token_id=token_id,
                    work=winner,
                    state="running",
                    end_time=auction.end_time,
                )
            )
        else:  # the chain's auction, also when it was started again
            row.token_id, row.end_time = token_id, auction.end_time
        get_round(session, number).state = states.AUCTION
    return states.AUCTION


# ----------------------------------------------------------------------------- settle


@dataclass(frozen=True)
class RewardLedger:
    """Every account's lifetime reward total and permanent leaf index, as of an epoch."""

    cumulative: dict[str, int]
    indexes: dict[str, int]


def reward_ledger(session: Session, before_epoch: int | None = None) -> RewardLedger:
    """The ledger as of the newest epoch (before ``before_epoch``, if given).

    The indexes are not stored: they are re-derived epoch by epoch with the rule the
    public record is checked against (``assign_indexes``: accounts keep their index,
    accounts first rewarded in an epoch are appended in address order).
    """
    query = select(Reward.account, Reward.cumulative, Reward.epoch).order_by(Reward.epoch)
    if before_epoch is not None:
        query = query.where(Reward.epoch < before_epoch)
    totals: dict[str, int] = {}
    indexes: dict[str, int] = {}
    current: int | None = None
    accounts: list[str] = []
    for account, cumulative, epoch in session.execute(query):
        if epoch != current:
            indexes = assign_indexes(indexes, accounts)
            current, accounts = epoch, []
        accounts.append(account)
        totals[account] = cumulative
    return RewardLedger(totals, assign_indexes(indexes, accounts))


def _undistributed(session: Session) -> int:
    """Voter pools received from settled auctions minus what epochs have given out."""
    received = sum(
        a.voter_pool or 0
        for a in session.scalars(select(Auction).where(Auction.state == "settled"))
    )
    given = sum(e.distributed for e in session.scalars(select(RewardEpoch)))
    return received - given


def _voter_pool(chain: ChainClient, token_id: int, amount: int, since_block: int) -> int:
    """What the auction house sent the distributor, from its settlement event."""
    auction = chain.contract("auction")
    for log in auction.events.AuctionSettled().get_logs(
        from_block=since_block, argument_filters={"token_id": token_id}
    ):
        return int(log["args"]["to_distributor"])
    # No event found (a node that prunes logs): the contract's rule with its current share.
    return share_of(amount, chain.auction(token_id).distributor_bps)


def settle_round(ctx: RoundContext, number: int) -> str:
    """Settle the auction, split the voters' pool, post the cumulative root."""
    with ctx.db.unit_of_work() as session:
        state = get_round(session, number).state
        token_id = get_round(session, number).token_id
    if state in (states.OPENING, states.VOTING, states.CLOSING):
        raise RoundError(f"round {number} is {state}: close it before settling")
    reconcile.begin(ctx, number)

    if token_id is not None:  # every state from auction on: the chain's settlement
        with ctx.db.unit_of_work() as session:
            winner = get_round(session, number).winner
            since = get_round(session, number).close_block or 0
        assert winner is not None
        auction = reconcile.require_auction(ctx, number, state, winner, token_id)
        token_id = auction.token_id
        if not auction.settled:
            if ctx.chain.block_timestamp() < auction.end_time:
                raise RoundError(
                    f"the auction of round {number} runs until {auction.end_time} (chain time)"
                )
            ctx.chain.settle(token_id)
            ctx.checkpoint("auction_settled")
            auction = ctx.chain.auction(token_id)
        pool = _voter_pool(ctx.chain, token_id, auction.amount, since)
        reconcile.record_settlement(ctx, number, auction, pool)

    with ctx.db.unit_of_work() as session:
        epoch = session.scalar(select(RewardEpoch).where(RewardEpoch.round == number))
        if epoch is None and get_round(session, number).state == states.SETTLED:
            return states.SETTLED  # settled with nothing to share: the pool waits
        if epoch is None:
            outcome = stored_outcome(session, get_round(session, number))
            previous = reward_ledger(session)
            result = reward_epoch(
                _undistributed(session),
                outcome.reward_weights,
                previous.cumulative,
                previous.indexes,
            )
            if result.distributed == 0:  # nobody eligible: the pool waits for a later epoch
                get_round(session, number).state = states.SETTLED
                return states.SETTLED
            last = session.scalar(select(func.max(RewardEpoch.epoch))) or 0
            epoch = RewardEpoch(
                epoch=last + 1,
                round=number,
                pool=result.distributed + result.carried,
                distributed=result.distributed,
                root=result.root,
                total_cumulative=result.total,
                posted=False,
            )
            session.add(epoch)
            session.flush()
            for account, amount in result.shares.items():
                session.add(
                    Reward(
                        epoch=epoch.epoch,
                        account=account,
                        vp_spent=outcome.reward_weights[account],
                        amount=amount,
                        cumulative=result.cumulative[account],
                    )
                )
        epoch_number, root, total = epoch.epoch, epoch.root, epoch.total_cumulative
        if reconcile.posted_root(ctx, epoch_number) is None:
            reconcile.require_funded(ctx, session, epoch)
    ctx.checkpoint("rewards_computed")

    tx = ctx.chain.post_root(epoch_number, root, total)
    # A dev chain's short challenge window is waited out, so claims can follow at once.
    ctx.chain.await_claimable(epoch_number)
    ctx.checkpoint("root_posted")
    with ctx.db.unit_of_work() as session:
        epoch = session.get(RewardEpoch, epoch_number)
        assert epoch is not None
        epoch.posted = True
        if tx is not None:
            epoch.tx_hash = tx.tx_hash
        get_round(session, number).state = states.SETTLED
    return states.SETTLED


# ----------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class ClaimData:
    """The arguments of ``RewardDistributor.claim`` for one account."""

    index: int
    account: str
    cumulative: int
    proof: list[bytes]
    epoch: int


@dataclass(frozen=True)
class PendingReward:
    """What a posted root still in its challenge window adds for one account."""

    epoch: int
    amount: int  # beyond what the claimable root gives the account
    claimable_at: int  # chain time (Unix seconds) when the root can be claimed


def claim_data(ctx: RoundContext, account: str) -> ClaimData | None:
    """What ``account`` passes to ``RewardDistributor.claim``, from the newest root the
    distributor accepts now (a root still in its challenge window is not claimable)."""
    root = ctx.chain.claimable_root()
    if root == bytes(32):
        return None
    with ctx.db.unit_of_work() as session:
        epoch = session.scalar(
            select(RewardEpoch.epoch).where(RewardEpoch.posted.is_(True), RewardEpoch.root == root)
        )
    return None if epoch is None else _leaf(ctx, account, epoch)


def pending_reward(
    ctx: RoundContext, account: str, claim: ClaimData | None
) -> PendingReward | None:
    """The part of ``account``'s rewards in a root still in its challenge window, with
    the time it becomes claimable; None when there is no such root or it adds nothing."""
    pending = ctx.chain.pending_root()
    if pending is None or pending[2] <= ctx.chain.block_timestamp():
        return None
    epoch, _, claimable_at = pending
    leaf = _leaf(ctx, account, epoch)
    extra = (leaf.cumulative if leaf else 0) - (claim.cumulative if claim else 0)
    return PendingReward(epoch, extra, claimable_at) if extra > 0 else None


def _leaf(ctx: RoundContext, account: str, epoch: int) -> ClaimData | None:
    with ctx.db.unit_of_work() as session:
        ledger = reward_ledger(session, before_epoch=epoch + 1)
    tree = RewardTree.build(ledger.cumulative, ledger.indexes)
    if account not in tree:
        return None
    return ClaimData(
        tree.index_of(account), account, tree.amount_of(account), tree.proof(account), epoch
    )


def claimed_amount(ctx: RoundContext, claim: ClaimData | None) -> int:
    """What the distributor has already paid for ``claim``'s index (0 without a leaf)."""
    return ctx.chain.claimed(claim.index) if claim is not None else 0


def step_summary(ctx: RoundContext, number: int) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        round_ = get_round(session, number)
        return {"round": number, "state": round_.state, "winner": round_.winner}
