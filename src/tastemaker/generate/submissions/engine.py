"""The submissions engine: draws candidates from works imported with
``tastemaker generate --engine submissions --from PATH --out DIR``.

Imported works do not breed: there is no recipe to change. ``random`` draws one of
the imported works (from the folder in ``TASTEMAKER_SUBMISSIONS_DIR``), and
``mutate``/``crossover`` draw another, so the round service, curation and the taste
model treat them like any engine's candidates. A text work's genome holds its text,
so anyone can re-make its bytes; an image work's genome names its sha256, and its
bytes come from the import folder.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tastemaker.core.media import EXTENSIONS, IMAGE_PNG, TEXT_MARKDOWN, TEXT_PLAIN, Media, is_text
from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.genome import Genome
from tastemaker.generate.submissions.read import Submission
from tastemaker.store.media import cid_for_digest


class SubmissionsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_SUBMISSIONS_", extra="ignore")

    dir: Path | None = Field(
        default=None, description="A folder made by `generate --engine submissions`."
    )


def genome_for(item: Submission, sha256: str) -> Genome:
    data: dict[str, object] = {"item_id": item.item_id, "media_type": item.media.media_type}
    if item.media.is_text:
        data["text"] = item.media.text()
    else:
        data["sha256"] = sha256
    return Genome(SubmissionsEngine.name, data)


@cache
def _pool(folder: Path, stamp: float) -> tuple[Genome, ...]:
    from tastemaker.generate.batch import MANIFEST, read_manifest

    return tuple(r.to_genome() for r in read_manifest(folder / MANIFEST))


class SubmissionsEngine:
    name = "submissions"
    version = "1.0"
    media_types = (IMAGE_PNG, TEXT_PLAIN, TEXT_MARKDOWN)
    reproducible = True  # texts from the genome; images from the import folder

    def _folder(self) -> Path:
        folder = SubmissionsSettings().dir
        if folder is None:
            raise UsageError(
                "the submissions engine draws from imported works: import them with "
                "`tastemaker generate --engine submissions --from PATH --out DIR` and set "
                "TASTEMAKER_SUBMISSIONS_DIR=DIR"
            )
        return folder

    def pool(self) -> tuple[Genome, ...]:
        """Every imported work in the configured folder, in manifest order."""
        from tastemaker.generate.batch import MANIFEST

        folder = self._folder()
        manifest = folder / MANIFEST
        try:
            stamp = manifest.stat().st_mtime
        except OSError as exc:
            raise UsageError(
                f"TASTEMAKER_SUBMISSIONS_DIR={folder} has no {MANIFEST}: {exc.strerror}"
            ) from exc
        return _pool(folder, stamp)

    def capacity(self) -> int:
        """How many distinct works there are to draw (generate asks for no more)."""
        return len(self.pool())

    def random(self, rng: np.random.Generator) -> Genome:
        pool = self.pool()
        if not pool:
            raise UsageError("the imported submissions hold no works")
        return Genome(self.name, pool[int(rng.integers(len(pool)))].data)

    def mutate(self, genome: Genome, rng: np.random.Generator) -> Genome:
        self.validate(genome)
        return self.random(rng)  # nothing to change: another imported work

    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator) -> Genome:
        self.validate(a)
        self.validate(b)
        return self.random(rng)

    def validate(self, genome: Genome) -> None:
        if genome.engine != self.name:
            raise GenomeError(f"genome is for engine {genome.engine!r}, not {self.name!r}")
        data = genome.data
        media_type = data.get("media_type")
        if media_type not in EXTENSIONS or not isinstance(data.get("item_id"), str):
            raise GenomeError("a submissions genome needs an item_id and a known media_type")
        if is_text(media_type):
            if not isinstance(data.get("text"), str):
                raise GenomeError("a text submission's genome needs its text")
        elif not (isinstance(data.get("sha256"), str) and len(data["sha256"]) == 64):
            raise GenomeError("an image submission's genome needs the image's sha256")

    def make(self, genome: Genome, size: int) -> Media:
        self.validate(genome)
        data = genome.data
        if is_text(data["media_type"]):
            return Media.from_text(data["text"], data["media_type"])
        cid = cid_for_digest(bytes.fromhex(data["sha256"]))
        path = self._folder() / f"{cid}.{EXTENSIONS[data['media_type']]}"
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise GenomeError(
                f"imported image {data['item_id']!r} is not in the import folder: {exc.strerror}"
            ) from exc
        if hashlib.sha256(content).hexdigest() != data["sha256"]:
            raise GenomeError(f"{path} is corrupt: its content does not match its sha256")
        return Media(content, data["media_type"])

    def make_screened(self, genome: Genome, size: int) -> Media | None:
        return self.make(genome, size)  # people chose these works: no screen

    def genome_features(self, genome: Genome) -> np.ndarray:
        return np.zeros(0, dtype=np.float32)  # no recipe: the taste model reads the work

    def unavailable(self) -> str | None:
        return None  # importing needs nothing; drawing names its folder when asked
