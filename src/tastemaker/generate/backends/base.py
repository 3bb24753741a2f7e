"""What every generation backend shares: the job, how one candidate is made, and the
interface ``generate_works`` drives.

Candidate number ``i`` is proposed from its own RNG stream, seeded by ``(seed, i)``,
and making it is a pure function of the genome, so a backend may spread candidates
over any processes or machines: it only has to hand them back in index order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from tastemaker.core.media import Media
from tastemaker.generate.engine import Engine
from tastemaker.generate.genome import Genome
from tastemaker.store.media import MediaStore, StagedMedia

# Share of proposals made by each operator when parents are given.
MUTATE_SHARE, CROSSOVER_SHARE = 0.45, 0.35


@dataclass(frozen=True)
class Job:
    """One batch's recipe: everything a worker needs to make any of its candidates."""

    engine_name: str
    engine_version: str  # workers render with exactly the version the caller records
    seed: int
    parents: tuple[Genome, ...]
    size: int
    out: Path  # the media store's folder (local workers stage files straight into it)


# (genome, its staged file or None if the screen rejected it, media type)
Candidate = tuple[Genome, StagedMedia | None, str]
Candidates = Callable[[range], Iterator[Candidate]]


class Backend(Protocol):
    """Where candidates are made."""

    name: str

    def check(self, engine: Engine) -> None:
        """Raise ``UsageError`` now, before any work, if this backend cannot make
        ``engine``'s works (Ray missing, a cluster out of reach, ...)."""
        ...

    def candidates(self, job: Job, workers: int | None) -> AbstractContextManager[Candidates]:
        """A function mapping candidate indices to candidates, in index order.

        ``workers`` is how many processes of this machine to use (None: every core);
        a backend spreading work over a cluster goes by the cluster's resources.
        Files of candidates the caller does not keep are its to discard.
        """
        ...


def propose(engine: Engine, rng: np.random.Generator, parents: Sequence[Genome]) -> Genome:
    """One candidate: a mutant or a cross of the parents, or a fresh random genome."""
    if parents:
        roll = rng.random()
        if roll < MUTATE_SHARE:
            return engine.mutate(parents[int(rng.integers(len(parents)))], rng)
        if roll < MUTATE_SHARE + CROSSOVER_SHARE and len(parents) > 1:
            a, b = rng.choice(len(parents), size=2, replace=False)
            return engine.crossover(parents[int(a)], parents[int(b)], rng)
    return engine.random(rng)


def make_candidate(job: Job, engine: Engine, index: int) -> tuple[Genome, Media | None]:
    """Propose and make candidate ``index`` of ``job`` (None: the screen rejected it)."""
    genome = propose(engine, np.random.default_rng([job.seed, index]), job.parents)
    genome.id  # noqa: B018 - hashed here, in the worker, and sent along with the genome
    return genome, engine.make_screened(genome, job.size)


def stage_candidate(store: MediaStore, genome: Genome, media: Media | None) -> Candidate:
    """A made candidate as the caller takes it: its media staged in ``store``."""
    if media is None:
        return genome, None, ""
    return genome, store.stage(media.data, media.extension), media.media_type
