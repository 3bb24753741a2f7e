"""Rounds, their pools, the work to show next, and the standings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from tastemaker.store.tables import Round
from tastemaker.web import queries
from tastemaker.web.deps import Cookie, Ctx, Db, Paging, json_response, page
from tastemaker.web.hot import next_answer
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
    # The ordinary request is answered by web/hot.py before FastAPI; this route answers
    # the rest and describes the API. The database work (session row, pick, impression)
    # is done by the group commit's writer in a batch with other requests.
    return json_response(await next_answer(ctx, number, who))
