"""Evolution: parents from winners and high-posterior works, children by the engine's
operators, screened by the taste model, with a novelty archive against collapse.

Only the Engine protocol is used, so any engine can be steered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tastemaker.generate.engine import Engine
from tastemaker.generate.genome import Genome


@dataclass(frozen=True)
class EvolutionSettings:
    crossover_rate: float = 0.3  # share of children bred from two parents
    random_share: float = 0.15  # share of fresh random genomes among the brood
    oversample: int = 4  # brood = oversample x wanted candidates, before screening
    novelty_weight: float = 0.3  # logit bonus per unit of (normalised) novelty
    novelty_neighbours: int = 5
    archive_size: int = 300


@dataclass
class NoveltyArchive:
    """Feature rows of works seen so far; novelty = mean distance to the k nearest."""

    capacity: int = 300
    rows: list[np.ndarray] = field(default_factory=list)

    def add(self, features: np.ndarray) -> None:
        self.rows.extend(np.atleast_2d(features))
        if len(self.rows) > self.capacity:
            self.rows = self.rows[-self.capacity :]

    def novelty(self, features: np.ndarray, k: int) -> np.ndarray:
        if not self.rows:
            return np.zeros(len(features))
        archive = np.vstack(self.rows)
        scale = archive.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        a, f = archive / scale, features / scale
        sq = (f**2).sum(1)[:, None] + (a**2).sum(1)[None, :] - 2 * f @ a.T
        d = np.sqrt(np.maximum(sq, 0.0))
        k = min(k, d.shape[1])
        return np.sort(d, axis=1)[:, :k].mean(axis=1)


def choose_parents(
    winners: Sequence[Genome],
    scored: Sequence[tuple[Genome, float]],
    n: int,
    rng: np.random.Generator,
) -> list[Genome]:
    """Recent winners first, then the best-scoring works, with rank-weighted sampling."""
    ranked = [g for g, _ in sorted(scored, key=lambda t: -t[1])]
    # Genomes hold dicts, so de-duplicate by id.
    by_id = {g.id: g for g in [*reversed(winners), *ranked][::-1]}
    order = list(dict.fromkeys(g.id for g in [*reversed(winners), *ranked]))
    pool = [by_id[i] for i in order]
    if not pool:
        return []
    pool = pool[: max(n * 2, 1)]
    weights = 1.0 / np.arange(1, len(pool) + 1)
    picks = rng.choice(len(pool), size=min(n, len(pool)), replace=False, p=weights / weights.sum())
    return [pool[k] for k in picks]


def breed(
    engine: Engine,
    parents: Sequence[Genome],
    n: int,
    rng: np.random.Generator,
    settings: EvolutionSettings | None = None,
) -> list[Genome]:
    """``n`` children: mutants, crossovers, and a share of fresh random genomes."""
    settings = settings or EvolutionSettings()
    children: list[Genome] = []
    for _ in range(n):
        roll = rng.random()
        if not parents or roll < settings.random_share:
            children.append(engine.random(rng))
        elif len(parents) > 1 and roll < settings.random_share + settings.crossover_rate:
            a, b = rng.choice(len(parents), size=2, replace=False)
            children.append(engine.mutate(engine.crossover(parents[a], parents[b], rng), rng))
        else:
            children.append(engine.mutate(parents[int(rng.integers(len(parents)))], rng))
    return children


def screen(
    scores: np.ndarray,
    novelty: np.ndarray,
    keep: int,
    settings: EvolutionSettings | None = None,
) -> np.ndarray:
    """Indices of the ``keep`` best children by taste score plus a novelty bonus."""
    settings = settings or EvolutionSettings()
    spread = novelty.std()
    bonus = (novelty - novelty.mean()) / spread if spread > 1e-12 else np.zeros_like(novelty)
    total = scores + settings.novelty_weight * bonus
    return np.argsort(-total, kind="stable")[:keep]
