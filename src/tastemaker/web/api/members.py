"""Member profiles, model cards and the taste series."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from tastemaker.store.tables import ModelVersion
from tastemaker.web import queries
from tastemaker.web.deps import (
    ADDRESS_PATTERN,
    AddressPath,
    Ctx,
    Db,
    Member,
    Paging,
    page,
    parse_address,
)
from tastemaker.web.taste import taste_series

router = APIRouter(tags=["members"])


@router.get("/members/me", summary="The signed-in member: stake, VP and history")
def me(ctx: Ctx, session: Db, member: Member) -> dict[str, Any]:
    return profile(ctx, session, member)


@router.get("/members/{address}", summary="A member's stake, VP, votes and rewards")
def profile(ctx: Ctx, session: Db, address: AddressPath) -> dict[str, Any]:
    account = parse_address(address)
    grant = ctx.allowance_of(account)
    return queries.member_profile(session, account) | {
        "staked": str(ctx.staked(account)),
        "vp": str(grant.vp),
        "earns_rewards": grant.earns_rewards,
    }


@router.get("/models", summary="Model cards of the taste model, newest first")
def models(session: Db, paging: Paging) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(ModelVersion)) or 0
    return page(queries.model_cards(session, paging.offset, paging.limit), paging, total)


@router.get("/taste", summary="How the collective's taste (and a member's) moved by round")
def taste(
    ctx: Ctx, session: Db, member: str | None = Query(default=None, pattern=ADDRESS_PATTERN)
) -> dict[str, Any]:
    account = parse_address(member) if member else None
    return taste_series(session, ctx.rounds.media, account)
