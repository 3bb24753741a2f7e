"""Auctions (live state, bid history, bid transactions) and rewards (claims)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from tastemaker.rounds.service import claim_data, claimed_amount, pending_reward
from tastemaker.store.tables import Auction
from tastemaker.web import onchain, queries
from tastemaker.web.deps import AddressPath, Ctx, Db, Member, Paging, page, parse_address
from tastemaker.web.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["market"], responses=PROBLEM_RESPONSES)


class BidRequest(BaseModel):
    amount: str | None = Field(
        default=None, pattern=r"^[0-9]{1,78}$", description="Wei; default: the minimum next bid."
    )


def _auction_row(session: Db, token_id: int) -> Auction:
    row = (
        session.scalar(select(Auction).where(Auction.token_id == token_id))
        if (0 <= token_id < 2**63)
        else None
    )
    if row is None:
        raise Problem(404, "unknown_auction", f"there is no auction of token {token_id}")
    return row


def _auction_body(ctx: Ctx, row: Auction, with_bids: bool) -> dict[str, Any]:
    chain = ctx.rounds.chain
    body = {
        "round": row.round,
        "work": queries.hex32(row.work),
        "image_url": f"/api/works/{queries.hex32(row.work)}/image",
    } | onchain.auction_json(chain.auction(row.token_id), chain.block_timestamp())
    if with_bids:
        body["bids"] = onchain.bid_history(chain, row.token_id)
    return body


@router.get("/auctions", summary="Auctions, newest first (live chain state)")
def list_auctions(ctx: Ctx, session: Db, paging: Paging) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(Auction)) or 0
    rows = session.scalars(
        select(Auction).order_by(Auction.round.desc()).offset(paging.offset).limit(paging.limit)
    ).all()
    return page([_auction_body(ctx, r, False) for r in rows], paging, total)


@router.get("/auctions/{token_id}", summary="One auction with its bid history")
def get_auction(ctx: Ctx, session: Db, token_id: int) -> dict[str, Any]:
    return _auction_body(ctx, _auction_row(session, token_id), True)


@router.post("/auctions/{token_id}/bid-tx", summary="A bid transaction for the wallet to send")
def bid_tx(
    ctx: Ctx, session: Db, member: Member, token_id: int, body: BidRequest
) -> dict[str, Any]:
    _auction_row(session, token_id)
    chain = ctx.rounds.chain
    state = chain.auction(token_id)
    if state.settled or chain.block_timestamp() >= state.end_time:
        raise Problem(409, "auction_ended", f"the auction of token {token_id} has ended")
    amount = int(body.amount) if body.amount is not None else state.min_next_bid()
    if amount < state.min_next_bid():
        raise Problem(
            409,  # the auction's state refuses it, not the request's form
            "bid_too_low",
            f"the smallest bid now is {state.min_next_bid()} wei",
            min_next_bid=str(state.min_next_bid()),
        )
    return {"tx": onchain.bid_tx(chain, token_id, amount, member), "amount": str(amount)}


def _rewards(ctx: Ctx, session: Db, account: str) -> dict[str, Any]:
    claim = claim_data(ctx.rounds, account)
    claimed = claimed_amount(ctx.rounds, claim)
    cumulative = claim.cumulative if claim else 0
    pending = pending_reward(ctx.rounds, account, claim)
    return {
        "account": account,
        "index": claim.index if claim else None,
        "cumulative": str(cumulative),
        "claimed": str(claimed),
        "claimable": str(max(cumulative - claimed, 0)),
        "epoch": claim.epoch if claim else None,
        "proof": ["0x" + p.hex() for p in claim.proof] if claim else [],
        "history": queries.reward_history(session, account),
        # Rewards in a root still in its challenge window: when they become claimable.
        "pending": None
        if pending is None
        else {
            "epoch": pending.epoch,
            "amount": str(pending.amount),
            "claimable_at": pending.claimable_at,
            "claimable_at_utc": onchain.utc_iso(pending.claimable_at),
        },
    }


@router.get("/rewards/{account}", summary="Claimable rewards, the Merkle proof, and history")
def rewards(ctx: Ctx, session: Db, account: AddressPath) -> dict[str, Any]:
    return _rewards(ctx, session, parse_address(account))


@router.post("/rewards/claim-tx", summary="A claim transaction for the signed-in member")
def claim_tx(ctx: Ctx, member: Member) -> dict[str, Any]:
    claim = claim_data(ctx.rounds, member)
    claimed = claimed_amount(ctx.rounds, claim)
    if claim is None or claim.cumulative <= claimed:
        pending = pending_reward(ctx.rounds, member, claim)
        if pending is not None:
            raise Problem(
                409,
                "not_yet_claimable",
                f"your {pending.amount} wei of epoch {pending.epoch} become claimable at "
                f"{onchain.utc_iso(pending.claimable_at)}, when its challenge window ends",
                claimable_at=pending.claimable_at,
            )
        raise Problem(409, "nothing_to_claim", "you have no unclaimed rewards")
    return {
        "tx": onchain.claim_tx(ctx.rounds.chain, claim, member),
        "amount": str(claim.cumulative - claimed),
    }
