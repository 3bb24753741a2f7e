"""Server-rendered pages. They read through the same queries as the API; the wallet
work (sign in, sign votes, send bids and claims) is done by static/app.js."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from tastemaker.rounds.service import claim_data, claimed_amount, pending_reward
from tastemaker.store.tables import Auction, Work
from tastemaker.web import onchain, queries
from tastemaker.web.deps import Ctx, Db, MaybeMember
from tastemaker.web.display import Display
from tastemaker.web.taste import FEATURES, svg_plot, taste_series

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def eth(wei: int | str | None) -> str:
    if wei is None:
        return "-"
    return f"{int(wei) / 10**18:,.4f} ETH"


def vp(base_units: int | float | str | None) -> str:
    """VP (18-decimal base units, like the token) in whole VP."""
    if base_units is None:
        return "-"
    return f"{float(base_units) / 10**18:,.2f}"


def short(address: str | None) -> str:
    return f"{address[:6]}…{address[-4:]}" if address else "-"


templates.env.filters["eth"] = eth
templates.env.filters["short"] = short
templates.env.filters["vp"] = vp
templates.env.filters["utc"] = onchain.utc_iso


def render(request: Request, name: str, ctx: Ctx, member: str | None, **data: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "member": member,
            "chain_id": ctx.chain_id,
            "chain_name": ctx.settings.chain_name,
            "rpc_url": ctx.public_rpc_url,
            "dev_chain": ctx.dev_wallets,
            "page": name.removesuffix(".html"),
            **data,
        },
    )


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/round", status_code=303)


@router.get("/vote", response_class=HTMLResponse)
def vote_page(request: Request, ctx: Ctx, session: Db, member: MaybeMember) -> HTMLResponse:
    round_ = queries.current_round(session)
    info = queries.round_json(round_, ctx.now()) if round_ else None
    return render(request, "vote.html", ctx, member, round=info)


@router.get("/round", response_class=HTMLResponse)
def round_page(request: Request, ctx: Ctx, session: Db, member: MaybeMember) -> HTMLResponse:
    round_ = queries.current_round(session)
    now = ctx.now()
    info = queries.round_json(round_, now) if round_ else None
    board: list[dict[str, Any]] = []
    final = False
    if round_ is not None and queries.leaderboard_visible(round_, now):
        final, board = queries.leaderboard(session, round_)
    return render(
        request,
        "round.html",
        ctx,
        member,
        round=info,
        pool_size=queries.pool_size(session, round_.number) if round_ else 0,
        board=board[:20],
        final=final,
        winners=queries.past_winners(session, 0, 12),
        display=Display(session, ctx.rounds.media),
    )


@router.get("/auction", response_class=HTMLResponse)
def auction_page(request: Request, ctx: Ctx, session: Db, member: MaybeMember) -> HTMLResponse:
    chain = ctx.rounds.chain
    rows = session.scalars(select(Auction).order_by(Auction.round.desc()).limit(10)).all()
    live, settled = None, []
    now = chain.block_timestamp()
    for row in rows:
        state = onchain.auction_json(chain.auction(row.token_id), now)
        entry = {"round": row.round, "work": queries.hex32(row.work)} | state
        if not state["settled"] and live is None:
            entry["bids"] = onchain.bid_history(chain, row.token_id)
            live = entry
        else:
            settled.append(entry)
    display = Display(session, ctx.rounds.media)
    return render(request, "auction.html", ctx, member, live=live, settled=settled, display=display)


@router.get("/rewards", response_class=HTMLResponse)
def rewards_page(request: Request, ctx: Ctx, session: Db, member: MaybeMember) -> HTMLResponse:
    info = None
    if member:
        claim = claim_data(ctx.rounds, member)
        claimed = claimed_amount(ctx.rounds, claim)
        cumulative = claim.cumulative if claim else 0
        info = {
            "cumulative": cumulative,
            "claimed": claimed,
            "claimable": max(cumulative - claimed, 0),
            "history": queries.reward_history(session, member),
            "pending": pending_reward(ctx.rounds, member, claim),
        }
    return render(request, "rewards.html", ctx, member, rewards=info)


@router.get("/taste", response_class=HTMLResponse)
def taste_page(request: Request, ctx: Ctx, session: Db, member: MaybeMember) -> HTMLResponse:
    series = taste_series(session, ctx.rounds.media, member)
    plots = []
    for feature in FEATURES:
        lines = {"collective": series["collective"][feature]}
        if series["member"] and any(v is not None for v in series["member"][feature]):
            lines["you"] = series["member"][feature]
        plots.append(svg_plot(feature, series["rounds"], lines))
    return render(
        request,
        "taste.html",
        ctx,
        member,
        cards=queries.model_cards(session, 0, 5),
        plots=plots,
        rounds=series["rounds"],
    )


@router.get("/gallery", response_class=HTMLResponse)
def gallery_page(request: Request, ctx: Ctx, session: Db, member: MaybeMember) -> HTMLResponse:
    winners = queries.past_winners(session, 0, 50)
    for winner in winners:
        work = session.get(Work, bytes.fromhex(winner["content_hash"][2:]))
        winner["lineage"] = queries.lineage(session, work) if work else []
    display = Display(session, ctx.rounds.media)
    return render(request, "gallery.html", ctx, member, winners=winners, display=display)
