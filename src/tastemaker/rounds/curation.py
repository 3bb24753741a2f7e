"""The curation port: how the round service asks a taste policy what to show.

A policy learns from the vote history, proposes parents for the next generation,
and picks the next voting pool from fresh candidates plus the current pool.
``RandomCurator`` is the baseline policy (random pool, no learning, no
evolution); the taste model's policy lives in ``tastemaker.taste``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tastemaker.core.media import IMAGE_PNG
from tastemaker.generate.genome import Genome


@dataclass(frozen=True)
class Candidate:
    work: bytes  # content hash
    genome: Genome
    path: Path  # the work's media file
    media_type: str = IMAGE_PNG


@dataclass(frozen=True)
class PastVote:
    round: int
    member: str
    work: bytes
    direction: int
    amount: int


@dataclass(frozen=True)
class History:
    """Everything a policy may learn from: counted votes, the works they name, winners."""

    votes: Sequence[PastVote]
    works: dict[bytes, Candidate]
    winners: Sequence[bytes]


@dataclass(frozen=True)
class PoolChoice:
    work: bytes
    reason: str  # "curated", "surprise" or "carried"


class Curator(Protocol):
    name: str

    def learn(self, history: History, round_number: int) -> dict[str, Any] | None:
        """Refit on the history; returns a model card to record, or None."""
        ...

    def parents(self, history: History, count: int) -> list[Genome]:
        """Genomes to breed the next candidates from (empty: all random)."""
        ...

    def curate(
        self,
        candidates: Sequence[Candidate],
        pool: Sequence[Candidate],
        new: int,
        size: int,
        rng: np.random.Generator,
    ) -> list[PoolChoice]:
        """The next pool: up to ``new`` candidates plus survivors, at most ``size``."""
        ...


class RandomCurator:
    """Baseline: a uniform sample of candidates, survivors culled at random."""

    name = "random"

    def learn(self, history: History, round_number: int) -> dict[str, Any] | None:
        return None

    def parents(self, history: History, count: int) -> list[Genome]:
        return []

    def curate(
        self,
        candidates: Sequence[Candidate],
        pool: Sequence[Candidate],
        new: int,
        size: int,
        rng: np.random.Generator,
    ) -> list[PoolChoice]:
        fresh = [candidates[i] for i in rng.permutation(len(candidates))[:new]]
        keep = max(size - len(fresh), 0)
        survivors = [pool[i] for i in sorted(rng.permutation(len(pool))[:keep])]
        return pool_choices(fresh, survivors)


def pool_choices(fresh: Sequence[Candidate], survivors: Sequence[Candidate]) -> list[PoolChoice]:
    """The next pool as the round service takes it: fresh works first, then survivors."""
    return [PoolChoice(c.work, "curated") for c in fresh] + [
        PoolChoice(c.work, "carried") for c in survivors
    ]
