"""The taste model as the round service's curation policy (``rounds.curation.Curator``).

learn:   refit the TasteModel on every counted vote (member = wallet address, item =
         work content hash, weight = VP spent) over the work's embedding (image
         features, or MiniLM for text works) + genome features.
parents: recent winners and the works with the best collective posterior.
curate:  score fresh candidates (predicted approval + uncertainty bonus, no
         near-duplicates, a share of surprises unlike past winners) and cull the
         surviving pool by posterior.
Before any votes exist the policy has nothing to go on and samples at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import logit

from tastemaker.core.media import decode_text, is_text
from tastemaker.errors import MediaError, UsageError
from tastemaker.generate.genome import Genome
from tastemaker.generate.registry import get_engine
from tastemaker.rounds.curation import (
    Candidate,
    History,
    PoolChoice,
    RandomCurator,
    pool_choices,
)
from tastemaker.taste.cache import FeatureCache
from tastemaker.taste.curate import CurationSettings, cull, curate
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.embed_clip import image_embedder
from tastemaker.taste.embed_image import load_image
from tastemaker.taste.embed_text import TextEmbedder
from tastemaker.taste.evolve import choose_parents
from tastemaker.taste.model import TasteModel


def work_id(work: bytes) -> str:
    return "0x" + work.hex()


def _read_text(path: Path) -> str:
    try:
        return decode_text(path.read_bytes(), str(path))
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror}") from exc


class TasteCurator:
    name = "taste"

    def __init__(
        self,
        directory: Path,
        curation: CurationSettings | None = None,
        n_factors: int = 4,
        seed: int = 0,
    ) -> None:
        self.directory = Path(directory)
        self.curation = curation or CurationSettings()
        self.n_factors = n_factors
        self.rng = np.random.default_rng(seed)
        # CLIP when TASTEMAKER_CLIP_WEIGHTS is set, else the CPU aesthetics features.
        self.embedder = image_embedder(FeatureCache(self.directory / "features"))
        self.text_embedder = TextEmbedder(FeatureCache(self.directory / "features"))
        self.model: TasteModel | None = None
        self._winners: list[Candidate] = []
        self._history_works: dict[bytes, Candidate] = {}

    # ----------------------------------------------------------------- features

    def features(self, works: Sequence[Candidate]) -> np.ndarray:
        """The work's embedding, chosen by its media type (image aesthetics, or MiniLM
        for texts; both cached by content), beside the engine's genome features."""
        texts = [k for k, c in enumerate(works) if is_text(c.media_type)]
        if texts and len(texts) < len(works):
            raise UsageError("the taste model cannot learn from images and texts at once")
        if texts:
            content = self.text_embedder.embed([_read_text(c.path) for c in works])
        else:
            content = [self.embedder.embed_one(work_id(c.work), load_image(c.path)) for c in works]
        rows = []
        for c, content_part in zip(works, content, strict=True):
            genome_part = get_engine(c.genome.engine).genome_features(c.genome)
            rows.append(np.concatenate([content_part, genome_part]))
        return np.vstack(rows)

    def _items(self, works: Sequence[Candidate]) -> Items:
        return Items.from_arrays([work_id(c.work) for c in works], self.features(works))

    # ----------------------------------------------------------------- the port

    def learn(self, history: History, round_number: int) -> dict[str, Any] | None:
        self._history_works = dict(history.works)
        self._winners = [history.works[w] for w in history.winners if w in history.works]
        if not history.votes:
            return None
        votes = Votes.from_arrays(
            [v.member for v in history.votes],
            [work_id(v.work) for v in history.votes],
            [v.direction for v in history.votes],
            # VP amounts span orders of magnitude: weight by VP relative to the mean.
            np.array([v.amount for v in history.votes], dtype=float),
        )
        works = list(history.works.values())
        self.model = TasteModel(n_factors=self.n_factors, random_state=round_number).fit(
            votes, self._items(works)
        )
        path = self.directory / f"model-round-{round_number:05d}"
        self.model.save(path)
        return dict(self.model.model_card_) | {"path": str(path), "round": round_number}

    def parents(self, history: History, count: int) -> list[Genome]:
        if self.model is None:
            return []
        works = list(history.works.values())
        posterior = self.model.collective_proba([work_id(c.work) for c in works])
        scored = [(c.genome, float(p)) for c, p in zip(works, posterior, strict=True)]
        winners = [c.genome for c in self._winners]
        return choose_parents(winners, scored, count, self.rng)

    def curate(
        self,
        candidates: Sequence[Candidate],
        pool: Sequence[Candidate],
        new: int,
        size: int,
        rng: np.random.Generator,
    ) -> list[PoolChoice]:
        if self.model is None:
            return RandomCurator().curate(candidates, pool, new, size, rng)
        model = self.model
        model.add_items(self._items(candidates))
        ids = [work_id(c.work) for c in candidates]
        proba = np.clip(model.collective_proba(ids), 1e-6, 1 - 1e-6)
        winners = self.features(self._winners) if self._winners else None
        chosen = curate(
            self.features(candidates),
            logit(proba),
            model.item_uncertainty(ids),
            new,
            winners,
            self.curation,
        )
        fresh = [candidates[k] for k in chosen]
        survivors: list[Candidate] = []
        if pool and size > len(fresh):
            model.add_items(self._items(pool))
            pool_ids = [work_id(c.work) for c in pool]
            keep = set(cull(pool_ids, model.collective_proba(pool_ids), size - len(fresh)))
            survivors = [c for c in pool if work_id(c.work) in keep]
        return pool_choices(fresh, survivors)

    def predict(self, members: Sequence[str], works: Sequence[str]) -> np.ndarray | None:
        """P(up) for (member address, work hash) pairs, from the latest fit."""
        if self.model is None:
            return None
        return self.model.predict_proba(list(members), list(works))
