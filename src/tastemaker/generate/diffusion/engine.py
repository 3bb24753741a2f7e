"""The diffusion engine: text-to-image with local diffusers weights, Botto-style.

A genome is a prompt composed from a grammar (subject, scene, medium, style,
modifiers) plus the seed, steps and guidance of one diffusion run, and the sha256 of
the weights that made it. Evolution edits the prompt's parts and the numbers; the
taste model chooses. Importing this module needs neither torch nor diffusers; the
pipeline loads, once per process, on the first render.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.diffusion import genome as schema
from tastemaker.generate.diffusion import operators
from tastemaker.generate.diffusion.grammar import MAX_MODIFIERS, SLOTS, compose
from tastemaker.generate.diffusion.operators import Ranges
from tastemaker.generate.diffusion.pipeline import Pipeline, check_layout, load_pipeline
from tastemaker.generate.engine import MAX_SIZE, MIN_SIZE
from tastemaker.generate.genome import Genome
from tastemaker.settings import Settings, get_settings
from tastemaker.store.media import encode_png
from tastemaker.weights import weights_hash

WEIGHTS_SETTING = "TASTEMAKER_DIFFUSION_WEIGHTS"
HASH_BUCKETS = 8  # per prompt slot, in genome_features
MIN_STD = 2.0  # luminance std (0-255) below which an image is flat: black, grey, blank


def _bucket(text: str) -> int:
    return hashlib.sha256(text.encode()).digest()[0] % HASH_BUCKETS


class DiffusionEngine:
    """Text-to-image through a local diffusers pipeline (the ``diffusion`` extra)."""

    name = "diffusion"
    versions = ("1.0",)  # bump on any change to how a genome becomes pixels
    version = "1.0"
    media_types = ("image/png",)
    # Same bytes only on the same device and software (docs/decisions/0062).
    reproducible = False
    # Read by generate.batch: a thumbnail of a diffusion image says nothing about
    # the full one, and one process holds the model (torch uses every core itself).
    prescreen = False
    processes = False

    def __init__(self, version: str | None = None, settings: Settings | None = None) -> None:
        if version is not None:
            if version not in self.versions:
                known = ", ".join(self.versions)
                raise UsageError(f"diffusion has no version {version!r}; it renders {known}")
            self.version = version
        self._settings = settings
        self._pipeline: Pipeline | None = None
        self._hash: str | None = None

    # ----------------------------------------------------------------- settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def unavailable(self) -> str | None:
        """None if the engine can run here, else what it needs (nothing is loaded)."""
        weights = self.settings.diffusion_weights
        if weights is None:
            return f"needs {WEIGHTS_SETTING}"
        try:
            check_layout(weights)
            import diffusers  # noqa: F401
            import torch  # noqa: F401
        except UsageError as exc:
            return str(exc)
        except ImportError:
            return "needs the 'diffusion' extra"
        return None

    def weights_dir(self) -> Path:
        weights = self.settings.diffusion_weights
        if weights is None:
            raise UsageError(
                f"the diffusion engine needs {WEIGHTS_SETTING}: a directory of diffusers "
                "weights (e.g. a Stable Diffusion or Flux pipeline saved with save_pretrained); "
                "nothing is downloaded"
            )
        return weights

    def weights(self) -> str:
        """The sha256 of the weights directory (hashed once; see tastemaker.weights)."""
        if self._hash is None:
            directory = self.weights_dir()
            check_layout(directory)
            self._hash = weights_hash(directory)
        return self._hash

    def ranges(self) -> Ranges:
        (s_lo, s_hi), (g_lo, g_hi) = self.settings.diffusion_steps, self.settings.diffusion_guidance
        if not (1 <= s_lo <= s_hi <= schema.MAX_STEPS):
            raise UsageError(
                f"TASTEMAKER_DIFFUSION_STEPS must be [lo, hi] with 1 <= lo <= hi <= "
                f"{schema.MAX_STEPS}, got [{s_lo}, {s_hi}]"
            )
        if not (0 <= g_lo <= g_hi <= schema.MAX_GUIDANCE):
            raise UsageError(
                f"TASTEMAKER_DIFFUSION_GUIDANCE must be [lo, hi] with 0 <= lo <= hi <= "
                f"{schema.MAX_GUIDANCE}, got [{g_lo}, {g_hi}]"
            )
        return Ranges((s_lo, s_hi), (g_lo, g_hi))

    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            from tastemaker.generate.diffusion.pipeline import choose_device, choose_dtype

            s = self.settings
            self.weights()  # a missing setting or directory fails here, before torch loads
            device = choose_device(s.diffusion_device)
            dtype = choose_dtype(s.diffusion_dtype, device)
            self._pipeline = load_pipeline(self.weights_dir(), device, dtype, s.diffusion_threads)
        return self._pipeline

    # ----------------------------------------------------------------- operators

    def random(self, rng: np.random.Generator) -> Genome:
        return Genome(self.name, operators.random_data(rng, self.ranges(), self.weights()))

    def mutate(self, genome: Genome, rng: np.random.Generator) -> Genome:
        self.validate(genome)
        data = operators.mutate_data(genome.data, rng, self.ranges(), self.weights())
        return Genome(self.name, data, (genome.id,))

    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator) -> Genome:
        self.validate(a)
        self.validate(b)
        data = operators.crossover_data(a.data, b.data, rng, self.weights())
        return Genome(self.name, data, (a.id, b.id))

    def validate(self, genome: Genome) -> None:
        """Schema checks only: a genome made with other weights is still a genome (it
        breeds children on these weights; rendering it needs its own)."""
        if genome.engine != self.name:
            raise GenomeError(f"genome is for engine {genome.engine!r}, not {self.name!r}")
        schema.validate(genome.data)

    # ----------------------------------------------------------------- rendering

    def prompt(self, genome: Genome) -> str:
        return compose(genome.data["prompt"])

    def render(self, genome: Genome, size: int) -> np.ndarray:
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise UsageError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
        self.validate(genome)
        here = self.weights()
        wanted = genome.data["weights"]
        if wanted != here:
            raise GenomeError(
                f"genome was made with diffusion weights {wanted[:12]}…, but "
                f"{self.weights_dir()} holds {here[:12]}…; point {WEIGHTS_SETTING} at its weights"
            )
        d = genome.data
        pipe = self.pipeline()
        return pipe.render(self.prompt(genome), d["seed"], d["steps"], d["guidance"], size)

    # The media protocol (branch ``media``: engines return bytes + media type). Only
    # called once that protocol's batch code is in; tastemaker.core.media comes with it.

    def make(self, genome: Genome, size: int):  # type: ignore[no-untyped-def]  # -> Media
        from tastemaker.core.media import IMAGE_PNG, Media

        return Media(encode_png(self.render(genome, size)), IMAGE_PNG)

    def make_screened(self, genome: Genome, size: int):  # type: ignore[no-untyped-def]
        """``make``, or None for a flat image; no thumbnail prescreen (see ``prescreen``)."""
        from tastemaker.core.media import IMAGE_PNG, Media

        image = self.render(genome, size)
        return Media(encode_png(image), IMAGE_PNG) if self.screen(image) else None

    def screen(self, image: np.ndarray) -> bool:
        """False for flat images: what a safety checker's black frame or an fp16
        overflow (NaN, drawn black) gives."""
        lum = image.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
        return bool(lum.std() >= MIN_STD)

    def genome_features(self, genome: Genome) -> np.ndarray:
        """Hashed prompt parts (one-hot per slot), the modifier count, steps, guidance."""
        prompt = genome.data["prompt"]
        parts = []
        for slot in SLOTS:
            onehot = np.zeros(HASH_BUCKETS, np.float32)
            onehot[_bucket(prompt[slot])] = 1.0
            parts.append(onehot)
        mods = np.zeros(HASH_BUCKETS, np.float32)
        for m in prompt["modifiers"]:
            mods[_bucket(m)] += 1.0
        numbers = [
            len(prompt["modifiers"]) / MAX_MODIFIERS,
            np.log(genome.data["steps"]),
            genome.data["guidance"],
        ]
        return np.concatenate([*parts, mods, np.asarray(numbers, np.float32)])
