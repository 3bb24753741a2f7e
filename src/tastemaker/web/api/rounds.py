"""Rounds, their pools, the work to show next, and the standings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from tastemaker.rounds.showing import Shown, ShowRefused, ShowRequest
from tastemaker.store.tables import Round
from tastemaker.web import queries
from tastemaker.web.deps import Cookie, Ctx, Db, Paging, json_response, page
from tastemaker.web.intake import NextJob
from tastemaker.web.problems import Problem

router = APIRouter(prefix="/rounds", tags=["rounds"])


def _round(session: Db, number: int) -> Round:
    round_ = session.get(Round, number) if 0 < number < 2**31 else None
    if round_ is None:
        raise Problem(404, "unknown_round", f"there is no round {number}")
    return round_


@router.get("", summary="Every round, newest first")
def list_rounds(ctx: Ctx, session: Db, paging: Paging) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(Round)) or 0
    rounds = session.scalars(
        select(Round).order_by(Round.number.desc()).offset(paging.offset).limit(paging.limit)
    ).all()
    now = ctx.now()
    return page([queries.round_json(r, now) for r in rounds], paging, total)


@router.get("/current", summary="The round being voted on (else the newest)")
def current(ctx: Ctx, session: Db) -> dict[str, Any]:
    round_ = queries.current_round(session)
    if round_ is None:
        raise Problem(404, "no_round", "no round has been opened yet")
    return queries.round_json(round_, ctx.now()) | {
        "pool_size": queries.pool_size(session, round_.number)
    }


@router.get("/{number}", summary="One round")
def get_round(ctx: Ctx, session: Db, number: int) -> dict[str, Any]:
    round_ = _round(session, number)
    return queries.round_json(round_, ctx.now()) | {"pool_size": queries.pool_size(session, number)}


@router.get("/{number}/pool", summary="The round's voting pool, in pool order")
def pool(session: Db, number: int, paging: Paging) -> dict[str, Any]:
    _round(session, number)
    total = queries.pool_size(session, number)
    return page(queries.pool_page(session, number, paging.offset, paging.limit), paging, total)


@router.get(
    "/{number}/tally",
    summary="Standings: final after close; live (provisional) in the last 24 h of voting",
)
def standings(ctx: Ctx, session: Db, number: int, paging: Paging) -> dict[str, Any]:
    round_ = _round(session, number)
    if not queries.leaderboard_visible(round_, ctx.now()):
        raise Problem(
            403,
            "leaderboard_hidden",
            "the leaderboard shows in the final 24 hours of voting",
            visible_from=(queries.aware(round_.closes_at) - queries.LEADERBOARD_WINDOW).isoformat(),
        )
    final, rows = queries.leaderboard(session, round_)
    chunk = rows[paging.offset : paging.offset + paging.limit]
    return page(chunk, paging, len(rows)) | {"final": final, "round": number}


@router.post(
    "/{number}/next",
    summary="The next work to show the signed-in member (records the impression)",
    response_model=dict[str, Any],
)
async def next_work(ctx: Ctx, number: int, who: Cookie) -> Response:
    # On the event loop: the database work (session row, pick, impression) is done by
    # the group commit's writer in a batch with other requests (web/intake.py).
    if not 0 < number < 2**31:
        raise Problem(404, "unknown_round", f"there is no round {number}")
    vp = (await ctx.allowance_async(who.address)).vp
    job = NextJob(who, ShowRequest(number, who.address, ctx.now()))
    chosen = await ctx.intake.submit_async(job)
    if isinstance(chosen, ShowRefused):
        status = 404 if chosen.code == "unknown_round" else 409
        raise Problem(status, chosen.code, str(chosen))
    if isinstance(chosen, Exception):
        raise chosen
    assert isinstance(chosen, Shown)
    spent = sum(v.amount for v in chosen.votes.values())
    body: dict[str, Any] = {
        "round": number,
        "seen": chosen.seen,
        "pool_size": chosen.total,
        "voted": len(chosen.votes),
        "vp": str(vp),
        "spent": str(spent),
        "remaining": str(max(vp - spent, 0)),
        "work": None,
        "your_vote": None,
    }
    if chosen.work is not None:
        body["work"] = await ctx.work_json(number, chosen.work)
        previous = chosen.votes.get(chosen.work)
        if previous is not None:
            body["your_vote"] = {
                "direction": previous.direction,
                "amount": str(previous.amount),
                "nonce": str(previous.nonce),
            }
    return json_response(body)
