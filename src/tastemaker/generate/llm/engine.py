"""The llm engine: each genome's prompt goes to an OpenAI-compatible endpoint and the
answer is the work (text/plain).

A completion depends on the model behind the endpoint (and its seed support), so
``reproducible`` is False: a work's identity is the bytes the model gave, stored with
the genome that asked for them.
"""

from __future__ import annotations

import numpy as np

from tastemaker.core.media import TEXT_PLAIN, Media
from tastemaker.errors import GenomeError, MediaError
from tastemaker.generate.genome import Genome
from tastemaker.generate.llm import genome as schema
from tastemaker.generate.llm.client import complete
from tastemaker.generate.llm.settings import LLMSettings

MIN_WORDS = 3  # the screen: shorter answers are refusals or fragments


class LLMEngine:
    name = "llm"
    version = "1.0"
    media_types = (TEXT_PLAIN,)
    reproducible = False

    def __init__(self, settings: LLMSettings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> LLMSettings:
        return self._settings or LLMSettings()  # read when used: the URL may be set later

    def random(self, rng: np.random.Generator) -> Genome:
        return Genome(self.name, schema.random_data(rng))

    def mutate(self, genome: Genome, rng: np.random.Generator) -> Genome:
        self.validate(genome)
        return Genome(self.name, schema.mutate_data(genome.data, rng), (genome.id,))

    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator) -> Genome:
        self.validate(a)
        self.validate(b)
        return Genome(self.name, schema.crossover_data(a.data, b.data, rng), (a.id, b.id))

    def validate(self, genome: Genome) -> None:
        if genome.engine != self.name:
            raise GenomeError(f"genome is for engine {genome.engine!r}, not {self.name!r}")
        schema.validate(genome.data)

    def make(self, genome: Genome, size: int) -> Media:
        self.validate(genome)
        data = genome.data
        text = complete(
            self.settings, schema.prompt(data), float(data["temperature"]), data["seed"]
        )
        return Media.from_text(text.strip(), TEXT_PLAIN)

    def make_screened(self, genome: Genome, size: int) -> Media | None:
        try:
            media = self.make(genome, size)
        except MediaError:  # empty, not UTF-8 or over the size limit
            return None
        return media if len(media.text().split()) >= MIN_WORDS else None

    def genome_features(self, genome: Genome) -> np.ndarray:
        return schema.features(genome.data)

    def unavailable(self) -> str | None:
        return None if self.settings.url else "needs TASTEMAKER_LLM_URL"
