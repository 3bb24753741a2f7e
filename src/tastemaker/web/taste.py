"""How the community's taste moved round by round, as numbers and as inline SVG.

Each work is described by a few features people can see (brightness, colourfulness,
contrast, warmth), measured on its pixels. A round's *taste* on a feature is the
net-VP-weighted mean of the feature over the voted works minus the pool's mean:
positive means the votes leaned toward more of it than the pool offered. The same
figure over one member's votes gives their own taste beside the collective's.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from html import escape
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from tastemaker.store.media import MediaStore
from tastemaker.store.tables import PoolEntry, VoteRow, Work

FEATURES = ("brightness", "colourfulness", "contrast", "warmth")
_cache: dict[bytes, np.ndarray] = {}
_lock = threading.Lock()


def features_of(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB").resize((64, 64)), dtype=np.float64) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    return np.array([luma.mean(), colourfulness, luma.std(), (r - b).mean()])


def _features(session: Session, media: MediaStore, works: set[bytes]) -> dict[bytes, np.ndarray]:
    missing = [w for w in works if w not in _cache]
    if missing:
        rows = session.execute(
            select(Work.content_hash, Work.cid).where(Work.content_hash.in_(missing))
        ).all()
        for content_hash, cid in rows:
            path = media.path_for(cid)
            if path.exists():
                value = features_of(path)
                with _lock:
                    _cache[content_hash] = value
    return {w: _cache[w] for w in works if w in _cache}


def taste_series(session: Session, media: MediaStore, member: str | None = None) -> dict[str, list]:
    """{"rounds": [...], "collective": {feature: [...]}, "member": {feature: [...] or None}}."""
    votes = session.execute(
        select(VoteRow.round, VoteRow.voter, VoteRow.work, VoteRow.direction, VoteRow.amount)
        .where(VoteRow.current.is_(True))
        .order_by(VoteRow.round)
    ).all()
    pools: dict[int, set[bytes]] = defaultdict(set)
    for number, work in session.execute(select(PoolEntry.round, PoolEntry.work)):
        pools[number].add(work)
    rounds = sorted({v.round for v in votes})
    needed = {v.work for v in votes} | {w for n in rounds for w in pools[n]}
    feats = _features(session, media, needed)
    collective: dict[str, list[float | None]] = {f: [] for f in FEATURES}
    own: dict[str, list[float | None]] = {f: [] for f in FEATURES}
    for number in rounds:
        pool = [feats[w] for w in pools[number] if w in feats]
        baseline = np.mean(pool, axis=0) if pool else np.zeros(len(FEATURES))
        in_round = [v for v in votes if v.round == number and v.work in feats]
        for target, chosen in (
            (collective, in_round),
            (own, [v for v in in_round if v.voter == member]),
        ):
            lean = _lean(chosen, feats, baseline)
            for i, name in enumerate(FEATURES):
                target[name].append(None if lean is None else round(float(lean[i]), 4))
    return {
        "features": list(FEATURES),
        "rounds": rounds,
        "collective": collective,
        "member": own if member else None,
    }


def _lean(votes: list, feats: dict[bytes, np.ndarray], baseline: np.ndarray) -> np.ndarray | None:
    weights = np.array([v.direction * float(v.amount) for v in votes])
    if not len(votes) or not np.abs(weights).sum():
        return None
    deltas = np.array([feats[v.work] - baseline for v in votes])
    return (weights[:, None] * deltas).sum(axis=0) / np.abs(weights).sum()


def svg_plot(
    title: str,
    rounds: list[int],
    lines: dict[str, list[float | None]],
    width: int = 360,
    height: int = 180,
) -> str:
    """A small line chart as inline SVG (no plotting library, no JavaScript)."""
    colours = ["#d9480f", "#1971c2", "#2f9e44", "#ae3ec9"]
    pad = 38  # room for the y scale's labels
    values = [v for series in lines.values() for v in series if v is not None]
    top = max([abs(v) for v in values] + [0.01])
    span = width - 2 * pad
    xs = {
        r: pad + (span * i / (len(rounds) - 1) if len(rounds) > 1 else span / 2)
        for i, r in enumerate(rounds)
    }

    def y(v: float) -> float:
        return height / 2 - (height / 2 - pad) * (v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="plot">',
        f'<text x="{pad}" y="16" class="plot-title">{escape(title)}</text>',
        f'<line x1="{pad}" x2="{width - pad}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="axis"/>',
        f'<line x1="{pad}" x2="{pad}" y1="{y(top):.1f}" y2="{y(-top):.1f}" class="axis"/>',
    ]
    # The y scale: the lean at the top and bottom of the plot, half-way, and zero.
    for v in (top, top / 2, 0.0, -top / 2, -top):
        label = "0" if v == 0 else f"{v:+.2f}" if top >= 0.05 else f"{v:+.3f}"
        parts.append(
            f'<line x1="{pad - 3}" x2="{pad}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="axis"/>'
            f'<text x="{pad - 5}" y="{y(v) + 3:.1f}" text-anchor="end" class="tick y">'
            f"{label}</text>"
        )
    for r, x in xs.items():
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" class="tick">round {r}</text>')
    for index, ((name, series), colour) in enumerate(zip(lines.items(), colours, strict=False)):
        dash = ' stroke-dasharray="5 3"' if index else ""
        points = [(xs[r], y(v)) for r, v in zip(rounds, series, strict=True) if v is not None]
        legend_x = width - pad - 80 * (len(lines) - index)
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 16}" y1="12" y2="12" stroke="{colour}" '
            f'stroke-width="2"{dash}/><text x="{legend_x + 20}" y="16" class="legend">'
            f"{escape(name)}</text>"
        )
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{4 - index}" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)
