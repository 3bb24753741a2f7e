"""The demo's report: an HTML page (winners with lineage, learning curve, tallies,
payouts) and a summary table for the terminal."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from rich import box
from rich.table import Table
from sqlalchemy import select

from tastemaker.core.media import extension, is_text
from tastemaker.demo.run import DemoResult
from tastemaker.store.db import Database
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import GenomeRow, Round, TallyRowRecord, Work

ETH = 10**18


def _eth(wei: int) -> str:
    return f"{wei / ETH:.4f}"


def summary_table(result: DemoResult) -> Table:
    """The demo's table, whole in an 80-column terminal: two-line headers, the winner
    as the tail of its CID (every CID starts "bafkrei"), a light box."""
    table = Table(
        title="Tastemaker demo",
        box=box.SIMPLE_HEAD,
        padding=(0, 0),  # the box's blank separators space the columns
    )
    for column in (
        "week",
        "votes",
        "voters",
        "winner",
        "winner\nappr.",
        "pool\nappr.",
        "AUC",
        "sale\nETH",
        "voters\nETH",
        "ok",
    ):
        table.add_column(column, justify="right")
    for w in result.weeks:
        table.add_row(
            str(w.round),
            str(w.votes),
            str(w.voters),
            "…" + w.winner[-6:] if w.winner else "-",
            f"{w.winner_approval:.3f}",
            f"{w.pool_approval:.3f}",
            "-" if w.model_auc is None else f"{w.model_auc:.3f}",
            _eth(w.sale_wei),
            _eth(w.voter_pool_wei),
            "yes" if w.verified else "NO",
        )
    return table


def _learning_curve(result: DemoResult, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = [w.round for w in result.weeks]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].plot(weeks, [w.best_approval for w in result.weeks], "^:", label="best in pool")
    axes[0].plot(weeks, [w.winner_approval for w in result.weeks], "o-", label="winner")
    axes[0].plot(weeks, [w.pool_approval for w in result.weeks], "s--", label="pool mean")
    axes[0].set(xlabel="round", ylabel="hidden-taste approval", title="What the community likes")
    for ax in axes:
        ax.set_xticks(weeks)
    axes[0].legend()
    aucs = [(w.round, w.model_auc) for w in result.weeks if w.model_auc is not None]
    if aucs:
        axes[1].plot(*zip(*aucs, strict=True), "o-", color="tab:green")
    axes[1].axhline(0.5, color="grey", lw=0.8, ls=":")
    axes[1].set(
        xlabel="round",
        ylabel="ROC-AUC on the round's votes",
        ylim=(0.4, 1.0),
        title="Taste model, before seeing the round",
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def summary(result: DemoResult) -> dict:
    """What ``report/summary.json`` holds: per week, the winner against the pool's best.

    Approvals are the simulator's hidden truth (the mean member's chance of voting the
    work up; ``stake_`` ones weight members by stake); ``model_auc`` is the taste
    model fitted before the round scored on the round's votes (none in week 1).
    """
    return {
        "weeks": [
            {
                "week": i + 1,
                "round": w.round,
                "winner_approval": round(w.winner_approval, 4),
                "best_approval": round(w.best_approval, 4),
                "pool_approval": round(w.pool_approval, 4),
                "stake_winner_approval": round(w.stake_winner_approval, 4),
                "stake_best_approval": round(w.stake_best_approval, 4),
                "model_auc": None if w.model_auc is None else round(w.model_auc, 4),
                "votes_to_flip": w.votes_to_flip,
            }
            for i, w in enumerate(result.weeks)
        ]
    }


def write_report(result: DemoResult, out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` with its images and ``out_dir/summary.json``;
    returns the page's path."""
    import json

    images = out_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary(result), indent=1) + "\n")
    media = MediaStore(result.home / "media")
    db = Database(f"sqlite:///{result.home / 'tastemaker.db'}", migrate=False)
    _learning_curve(result, images / "learning-curve.png")

    def picture(work: Work, size: int) -> str:
        if is_text(work.media_type):  # set as type, escaped: never an image of text
            text = media.get_bytes(work.cid, extension(work.media_type)).decode("utf-8")
            if size < 100:
                flat = " ".join(text.split())
                short = flat if len(flat) <= 60 else flat[:59] + "…"
                return f"<span class='text-thumb'>{html.escape(short)}</span>"
            style = f"max-width:{size * 2}px"
            return f"<blockquote class='text-work' style='{style}'>{html.escape(text)}</blockquote>"
        name = f"{work.cid}.png"
        target = images / name
        if not target.exists():
            shutil.copyfile(media.path_for(work.cid), target)
        return f'<img src="images/{name}" width="{size}" height="{size}" alt="work {work.cid}">'

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Tastemaker demo</title>",
        "<style>body{font:15px system-ui;margin:2em;background:#111;color:#eee}"
        "table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #333}"
        ".win{display:inline-block;margin:0 1.5em 1.5em 0;vertical-align:top}"
        ".parents img{margin-right:4px;opacity:.85}a{color:#9cf}"
        ".text-work{margin:.5em 0;padding:.8em 1em;font:16px/1.5 Georgia,serif;"
        "white-space:pre-wrap;background:#faf7f0;color:#1c1c20}"
        ".text-thumb{font:13px Georgia,serif;color:#ddd}</style></head><body>",
        "<h1>Tastemaker demo</h1>",
        f"<p>{len(result.weeks)} weekly rounds, {len(result.labels)} "
        f"{html.escape(result.community)}, on the embedded chain. "
        "Every round verified from its public record: "
        f"{'yes' if all(w.verified for w in result.weeks) else 'NO'}.</p>",
        "<h2>Learning</h2><img src='images/learning-curve.png' alt='learning curve'>",
        "<p>Left: how much the simulated community (hidden tastes, never shown to the "
        "system) likes each round's winner, the best work that was in the pool (what a "
        "perfect tally would have picked) and the pool on average; a winner near the "
        "best means the tally found what the members like, a rising pool means "
        "curation and evolution learned it. Right: how well the taste model, fitted "
        "before each round, ranks that round's votes (0.5 is guessing).</p>",
        "<table><tr><th>week</th><th>winner</th><th>best in pool</th><th>winner / best"
        "</th><th>pool mean</th><th>votes to flip</th></tr>"
        + "".join(
            f"<tr><td>{i + 1}</td><td>{w.winner_approval:.3f}</td><td>{w.best_approval:.3f}"
            f"</td><td>{w.winner_approval / w.best_approval if w.best_approval else 0:.2f}"
            f"</td><td>{w.pool_approval:.3f}</td><td>{w.votes_to_flip or '-'}</td></tr>"
            for i, w in enumerate(result.weeks)
        )
        + "</table><p>Votes to flip: the fewest counted votes found whose removal would "
        "have changed the winner (an upper bound, checked by verify).</p>",
        "<h2>Winners and their lineage</h2>",
    ]
    with db.unit_of_work() as session:
        for week in result.weeks:
            round_ = session.get(Round, week.round)
            if round_ is None or round_.winner is None:
                parts.append(f"<div class='win'><h3>Round {week.round}</h3>no winner</div>")
                continue
            work = session.get(Work, round_.winner)
            genome = session.get(GenomeRow, work.genome_id)
            parent_works = session.scalars(
                select(Work).where(Work.genome_id.in_(genome.parents or []))
            ).all()
            lineage = "".join(picture(p, 72) for p in parent_works) or "fresh random genome"
            parts.append(
                f"<div class='win'><h3>Round {week.round} · token {round_.token_id}</h3>"
                f"{picture(work, 256)}<div>sold for {_eth(week.sale_wei)} ETH · "
                f"hidden approval {week.winner_approval:.2f}</div>"
                f"<div class='parents'>parents: {lineage}</div></div>"
            )
        parts.append("<h2>Tallies (top 10 of each round)</h2>")
        for week in result.weeks:
            rows = session.scalars(
                select(TallyRowRecord)
                .where(TallyRowRecord.round == week.round, TallyRowRecord.rank <= 10)
                .order_by(TallyRowRecord.rank)
            ).all()
            parts.append(
                f"<h3>Round {week.round}</h3><table><tr><th>rank</th><th>work</th>"
                "<th>score (net approval, all members)</th><th>net VP</th><th>voters</th>"
                "<th>views</th>"
                "<th>rank by raw net VP</th></tr>"
            )
            for row in rows:
                score = int(row.score_num) / int(row.score_den)
                parts.append(
                    f"<tr><td>{row.rank}</td><td>{picture(session.get(Work, row.work), 40)}</td>"
                    f"<td>{score:.3f}</td><td>{int(row.net_vp) / ETH:.2f}</td>"
                    f"<td>{row.voters}</td><td>{row.impressions}</td><td>{row.raw_rank}</td></tr>"
                )
            parts.append("</table>")
    db.dispose()
    parts.append(
        "<h2>Payouts</h2><table><tr><th>member</th><th>address</th>"
        "<th>earned ETH</th><th>claimed ETH</th><th>exact</th></tr>"
    )
    for address, earned in sorted(result.rewards.items(), key=lambda kv: -kv[1]):
        claimed = result.claimed.get(address, 0)
        parts.append(
            f"<tr><td>{html.escape(result.labels.get(address, '?'))}</td><td>{address}</td>"
            f"<td>{_eth(earned)}</td><td>{_eth(claimed)}</td>"
            f"<td>{'yes' if claimed == earned else 'NO'}</td></tr>"
        )
    parts.append("</table></body></html>")
    page = out_dir / "index.html"
    page.write_text("\n".join(parts))
    return page
