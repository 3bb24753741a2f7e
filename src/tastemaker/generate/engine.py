"""The Engine protocol: what every generative engine offers the rest of Tastemaker.

An engine proposes genomes (``random``, ``mutate``, ``crossover``) and makes each one
into a work: ``Media`` (bytes plus a media type, tastemaker.core.media). Image
engines subclass ``ImageEngine`` (tastemaker.generate.image), which turns their RGB
``render`` into PNG media and screens thumbnails first; text engines make media
directly.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from tastemaker.core.media import Media
from tastemaker.generate.genome import Genome

MIN_SIZE = 1
MAX_SIZE = 8192


@runtime_checkable
class Engine(Protocol):
    """A generative engine: proposes genomes and makes them into media.

    Every operator takes an explicit ``numpy.random.Generator`` so runs are
    reproducible. ``make`` is a function of (genome, size, version): for the CPU
    engines the same genome at the same size gives byte-identical media on every
    machine; an engine backed by a model or service (``reproducible = False``) gives
    the bytes the model gave, and a work's identity is those bytes.
    """

    name: str
    version: str
    media_types: tuple[str, ...]  # what ``make`` can return, e.g. ("image/png",)
    reproducible: bool  # can anyone holding the genome make the same bytes again?

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
        """Raise ``GenomeError`` if the genome cannot be made by this engine."""
        ...

    def make(self, genome: Genome, size: int) -> Media:
        """The work. ``size`` is the image side in pixels; text engines may ignore it."""
        ...

    def make_screened(self, genome: Genome, size: int) -> Media | None:
        """``make``, or None if a cheap quality screen rejects the genome."""
        ...

    def genome_features(self, genome: Genome) -> np.ndarray:
        """A small fixed-length float vector describing the recipe (for taste models)."""
        ...

    def unavailable(self) -> str | None:
        """None if the engine can run here; else what it needs, e.g.
        ``"needs TASTEMAKER_LLM_URL"`` (engines list this; nothing is contacted)."""
        ...
