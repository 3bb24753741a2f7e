"""The Engine protocol: what every generative engine offers the rest of Tastemaker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from tastemaker.generate.genome import Genome

MIN_SIZE = 1
MAX_SIZE = 8192


@runtime_checkable
class Engine(Protocol):
    """A generative engine proposes genomes and renders them to images.

    Every operator takes an explicit ``numpy.random.Generator`` so runs are
    reproducible. ``render`` must be a pure function of (genome, size, version):
    the same genome at the same size gives byte-identical pixels.
    """

    name: str
    version: str

    def random(self, rng: np.random.Generator) -> Genome:
        """A fresh genome with no parents."""
        ...

    def mutate(self, genome: Genome, rng: np.random.Generator) -> Genome:
        """A child of one parent, changed a little."""
        ...

    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator) -> Genome:
        """A child that mixes two parents (``a`` is the primary one)."""
        ...

    def validate(self, genome: Genome) -> None:
        """Raise ``GenomeError`` if the genome cannot be rendered by this engine."""
        ...

    def render(self, genome: Genome, size: int) -> np.ndarray:
        """An RGB image as a ``(size, size, 3)`` uint8 array."""
        ...

    def screen(self, image: np.ndarray) -> bool:
        """A cheap quality screen: False for degenerate images (flat, pure noise)."""
        ...

    def genome_features(self, genome: Genome) -> np.ndarray:
        """A small fixed-length float vector describing the recipe (for taste models)."""
        ...


def render_many(engine: Engine, genomes: Sequence[Genome], size: int) -> list[np.ndarray]:
    return [engine.render(g, size) for g in genomes]
