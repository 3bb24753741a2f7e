"""Reconcile a round step with the chain before it acts: the chain is the truth.

After a crash the database and the chain can disagree in one direction only if the
chain's effects are made durable first (``ChainClient.persist``, docs/decisions/0050):
the chain may hold a transaction the database has not recorded yet (a mint, an
auction, a settlement, a root), and each step adopts it. If the chain lacks what the
database records, the step either redoes the lost transaction, where that is safe
(a mint or an auction start not yet sold, a settlement of an ended auction, a root
not yet on chain), or stops with one line that names the repair. No step builds on a
state the chain lacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tastemaker.chain.client import AuctionState
from tastemaker.rounds import states
from tastemaker.store.tables import Auction, Reward, RewardEpoch, Round

if TYPE_CHECKING:
    from tastemaker.rounds.service import RoundContext

# Imported late: service imports this module.


def _round_error(message: str) -> Exception:
    from tastemaker.rounds.service import RoundError

    return RoundError(message)


def _restore(ctx: RoundContext) -> str:
    node = ctx.chain.node
    where = f"the newest copy of {node.state_file}" if node is not None else "the node's data"
    return f"the chain's state is older than the database: restore {where}"


def begin(ctx: RoundContext, number: int) -> None:
    """Before a step acts: make the node's state durable (so what the step reads and
    records is on disk), and check the chain holds the earlier rounds' facts."""
    ctx.chain.persist()
    with ctx.db.unit_of_work() as session:
        earlier_rounds_on_chain(ctx, session, number)


def earlier_rounds_on_chain(ctx: RoundContext, session: Session, number: int) -> None:
    """The newest facts recorded before round ``number`` are on chain. (Chain history is
    linear: a chain that holds the newest recorded transaction holds the older ones.)"""
    chain = ctx.chain
    before = session.scalar(
        select(Round)
        .where(Round.number < number, Round.token_id.is_not(None))
        .order_by(Round.number.desc())
        .limit(1)
    )
    if before is not None and before.winner is not None:
        if chain.token_of_content(before.winner) != before.token_id:
            raise _round_error(
                f"round {before.number}'s token {before.token_id} is not on the chain: "
                + _restore(ctx)
            )
        row = session.get(Auction, before.number)
        if row is not None and row.state == "settled" and not chain.auction(row.token_id).settled:
            raise _round_error(
                f"round {before.number}'s auction is settled in the database but not on the "
                f"chain: run `tastemaker round settle {before.number}` first"
            )
    epoch = session.scalar(
        select(RewardEpoch)
        .where(RewardEpoch.round < number, RewardEpoch.posted.is_(True))
        .order_by(RewardEpoch.epoch.desc())
        .limit(1)
    )
    if epoch is not None and posted_root(ctx, epoch.epoch) != epoch.root:
        raise _round_error(
            f"reward epoch {epoch.epoch} (round {epoch.round}) has no root on the chain: "
            f"run `tastemaker round settle {epoch.round}` first"
        )


def posted_root(ctx: RoundContext, epoch: int) -> bytes | None:
    """The root the distributor holds for ``epoch``, or None if it has none yet."""
    if ctx.chain.reward_epoch() < epoch:
        return None
    return bytes(ctx.chain.contract("distributor").functions.roots(epoch).call())


def check_close_block(ctx: RoundContext, round_: Round) -> None:
    """The chain has reached the block the round was closed at."""
    if round_.close_block is not None and ctx.chain.block_number() < round_.close_block:
        raise _round_error(
            f"round {round_.number} was closed at block {round_.close_block}, but the chain "
            f"is at block {ctx.chain.block_number()}: " + _restore(ctx)
        )


def winner_token(ctx: RoundContext, number: int, winner: bytes, recorded: int | None) -> int | None:
    """The winner's token on chain (adopted if the database missed the mint), or None
    if the chain has no token for it yet and the step must mint it (again)."""
    on_chain = ctx.chain.token_of_content(winner) or None
    if on_chain is not None and on_chain != recorded:
        with ctx.db.unit_of_work() as session:
            round_ = session.get(Round, number)
            assert round_ is not None
            round_.token_id = on_chain
            row = session.get(Auction, number)
            if row is not None:
                row.token_id = on_chain
    return on_chain


def require_auction(
    ctx: RoundContext, number: int, state: str, winner: bytes, token_id: int
) -> AuctionState:
    """The auction the database records is on chain. If it is not, a round still in
    auction is closed again (mint and start); a sold round's chain state was lost."""
    on_chain = ctx.chain.token_of_content(winner)
    auction = ctx.chain.auction(on_chain) if on_chain else None
    if auction is None or not auction.exists:
        if state != states.AUCTION:
            raise _round_error(
                f"round {number} was sold, but its auction (token {token_id}) is not on the "
                "chain: " + _restore(ctx)
            )
        raise _round_error(
            f"round {number}'s auction (token {token_id}) is not on the chain: "
            f"run `tastemaker round close {number}` to mint and start it again"
        )
    if on_chain != token_id:
        winner_token(ctx, number, winner, token_id)
    return auction


def record_settlement(
    ctx: RoundContext, number: int, auction: AuctionState, voter_pool: int
) -> None:
    """Record the chain's settlement; if it differs from what was recorded before and no
    root of this round is posted, the round's unposted epoch is recomputed."""
    with ctx.db.unit_of_work() as session:
        row = session.get(Auction, number)
        assert row is not None
        changed = row.state == "settled" and (
            row.amount != auction.amount
            or row.winner != auction.bidder
            or row.voter_pool != voter_pool
        )
        row.state, row.winner, row.amount = "settled", auction.bidder, auction.amount
        row.voter_pool = voter_pool
        round_ = session.get(Round, number)
        assert round_ is not None
        if changed:
            epoch = session.scalar(select(RewardEpoch).where(RewardEpoch.round == number))
            if epoch is not None and epoch.posted:
                raise _round_error(
                    f"round {number}'s auction settled on chain for {auction.amount} wei, not "
                    f"the {row.amount} wei its posted rewards were split from: " + _restore(ctx)
                )
            if epoch is not None:
                session.execute(delete(Reward).where(Reward.epoch == epoch.epoch))
                session.delete(epoch)
            round_.state = states.SETTLING
        elif round_.state == states.AUCTION:
            round_.state = states.SETTLING


def require_funded(ctx: RoundContext, session: Session, epoch: RewardEpoch) -> None:
    """The distributor holds what this epoch gives out (the auctions that fund it are
    settled on chain), before its root is posted."""
    chain = ctx.chain
    row = session.get(Auction, epoch.round)  # the newest settlement that funds it
    if row is not None and row.voter_pool and not chain.auction(row.token_id).settled:
        raise _round_error(
            f"round {row.round}'s auction is not settled on the chain, so the distributor "
            f"lacks its {row.voter_pool} wei: run `tastemaker round settle {row.round}`"
        )
    held = chain.balance(chain.contract("distributor").address)
    if held < epoch.distributed:
        raise _round_error(
            f"the distributor holds {held} wei but epoch {epoch.epoch} gives out "
            f"{epoch.distributed} wei: " + _restore(ctx)
        )
