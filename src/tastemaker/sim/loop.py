"""The learn-curate-vote-evolve loop run against a simulated community.

``mode="full"``: the taste model learns from every round's votes, curation picks the
pool from candidates bred from winners and high-posterior works, the pool is culled by
posterior. ``mode="random"``: fresh random works, random curation, no model, no evolution
(the pool keeps its newest works). Both tally winners the same way, from the votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import logit

from tastemaker.generate.engine import Engine
from tastemaker.generate.genome import Genome
from tastemaker.sim.community import Community, Impression, SimVote
from tastemaker.taste.curate import CurationSettings, cull, curate
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.embed_image import image_features
from tastemaker.taste.evolve import EvolutionSettings, NoveltyArchive, breed, choose_parents
from tastemaker.taste.evolve import screen as screen_children
from tastemaker.taste.model import TasteModel


@dataclass(frozen=True)
class LoopSettings:
    rounds: int = 10
    candidates: int = 100  # candidates per round offered to curation
    pool_new: int = 24  # works curated into the pool each round
    pool_capacity: int = 48  # rolling pool size after culling
    size: int = 64  # render size in pixels
    parents: int = 6
    min_impressions: int = 3  # a work needs this many impressions to win
    seed: int = 0
    curation: CurationSettings = field(default_factory=CurationSettings)
    evolution: EvolutionSettings = field(
        default_factory=lambda: EvolutionSettings(
            oversample=5, random_share=0.4, novelty_weight=0.2
        )
    )


@dataclass
class Work:
    genome: Genome
    image: np.ndarray
    features: np.ndarray

    @property
    def id(self) -> str:
        return self.genome.id


@dataclass(frozen=True)
class RoundResult:
    round: int
    winner_id: str
    winner_approval: float
    pool_approval: float  # mean hidden approval of the works shown this round
    new_approval: float  # mean hidden approval of this round's new entries
    votes: int


def work_features(engine: Engine, genome: Genome, image: np.ndarray) -> np.ndarray:
    """What the taste model sees: aesthetic image features plus the engine's genome features."""
    return np.concatenate([image_features(image), engine.genome_features(genome)])


def tally_winner(
    pool: list[Work], votes: list[SimVote], impressions: list[Impression], min_impressions: int
) -> Work:
    """The sim's tally: VP-weighted net approval rate, shrunk toward zero for works with
    little VP behind them. A rate (not raw net VP, Botto's rule) so a work is not ahead
    just for being shown more; the shrinkage keeps one whale's vote from deciding alone.
    """
    up: dict[str, float] = {}
    total: dict[str, float] = {}
    for v in votes:
        total[v.work_id] = total.get(v.work_id, 0.0) + v.amount
        if v.direction > 0:
            up[v.work_id] = up.get(v.work_id, 0.0) + v.amount
    shown: dict[str, int] = {}
    for imp in impressions:
        shown[imp.work_id] = shown.get(imp.work_id, 0) + 1
    prior = float(np.median(list(total.values()))) if total else 1.0
    eligible = [w for w in pool if shown.get(w.id, 0) >= min_impressions] or pool

    def rate(w: Work) -> float:
        t = total.get(w.id, 0.0)
        return (2 * up.get(w.id, 0.0) - t) / (t + prior)

    return max(eligible, key=rate)


class SimulatedLoop:
    """Runs ``settings.rounds`` rounds; ``run()`` returns one RoundResult per round."""

    def __init__(
        self,
        engine: Engine,
        community: Community,
        settings: LoopSettings | None = None,
        mode: Literal["full", "random"] = "full",
    ) -> None:
        self.engine = engine
        self.community = community
        self.settings = settings or LoopSettings()
        self.mode = mode
        self.rng = np.random.default_rng(self.settings.seed)
        self.works: dict[str, Work] = {}
        self.pool: list[Work] = []
        self.winners: list[Work] = []
        self.votes: list[SimVote] = []
        self.archive = NoveltyArchive(self.settings.evolution.archive_size)
        self.model: TasteModel | None = None

    # ------------------------------------------------------------ candidates

    def _make(self, genomes: list[Genome]) -> list[Work]:
        out = []
        seen = set(self.works)
        for g in genomes:
            if g.id in seen:
                continue
            seen.add(g.id)
            image = self.engine.render(g, self.settings.size)
            if not self.engine.screen(image):
                continue
            out.append(Work(g, image, work_features(self.engine, g, image)))
        return out

    def _random_works(self, n: int) -> list[Work]:
        works: list[Work] = []
        while len(works) < n:
            works.extend(self._make([self.engine.random(self.rng) for _ in range(n - len(works))]))
        return works[:n]

    def _collective_logit(self, works: list[Work]) -> np.ndarray:
        assert self.model is not None
        ids = [w.id for w in works]
        self.model.add_items(Items.from_arrays(ids, np.vstack([w.features for w in works])))
        return logit(np.clip(self.model.collective_proba(ids), 1e-6, 1 - 1e-6))

    def _evolved_candidates(self) -> list[Work]:
        s = self.settings
        scored = [
            (w.genome, float(p))
            for w, p in zip(self.pool, self._collective_logit(self.pool), strict=True)
        ]
        parents = choose_parents([w.genome for w in self.winners], scored, s.parents, self.rng)
        brood = self._make(
            breed(
                self.engine, parents, s.candidates * s.evolution.oversample, self.rng, s.evolution
            )
        )
        if not brood:
            return self._random_works(s.candidates)
        feats = np.vstack([w.features for w in brood])
        keep = screen_children(
            self._collective_logit(brood),
            self.archive.novelty(feats, s.evolution.novelty_neighbours),
            s.candidates,
            s.evolution,
        )
        return [brood[k] for k in keep]

    # ------------------------------------------------------------ one round

    def _curate(self, candidates: list[Work]) -> list[Work]:
        s = self.settings
        if self.mode == "random" or self.model is None:
            pick = self.rng.choice(
                len(candidates), size=min(s.pool_new, len(candidates)), replace=False
            )
            return [candidates[k] for k in pick]
        ids = [w.id for w in candidates]
        feats = np.vstack([w.features for w in candidates])
        winners = np.vstack([w.features for w in self.winners]) if self.winners else None
        chosen = curate(
            feats,
            self._collective_logit(candidates),
            self.model.item_uncertainty(ids),
            s.pool_new,
            winners,
            s.curation,
        )
        return [candidates[k] for k in chosen]

    def _learn(self) -> None:
        works = list(self.works.values())
        items = Items.from_arrays([w.id for w in works], np.vstack([w.features for w in works]))
        votes = Votes.from_arrays(
            [v.member_id for v in self.votes],
            [v.work_id for v in self.votes],
            [v.direction for v in self.votes],
            [v.amount for v in self.votes],
        )
        self.model = TasteModel(n_factors=2, max_iter=100, random_state=self.settings.seed).fit(
            votes, items
        )

    def step(self, round_no: int) -> RoundResult:
        s = self.settings
        if self.mode == "full" and self.model is not None:
            candidates = self._evolved_candidates()
        else:
            candidates = self._random_works(s.candidates)
        new = self._curate(candidates)
        for w in new:
            self.works[w.id] = w
        self.archive.add(np.vstack([w.features for w in candidates]))
        self.pool.extend(new)

        images = [w.image for w in self.pool]
        votes, impressions = self.community.vote_round([w.id for w in self.pool], images, self.rng)
        self.votes.extend(votes)
        winner = tally_winner(self.pool, votes, impressions, s.min_impressions)
        approval = self.community.approval(images)
        by_id = {w.id: a for w, a in zip(self.pool, approval, strict=True)}
        result = RoundResult(
            round=round_no,
            winner_id=winner.id,
            winner_approval=float(by_id[winner.id]),
            pool_approval=float(approval.mean()),
            new_approval=float(np.mean([by_id[w.id] for w in new])),
            votes=len(votes),
        )
        self.winners.append(winner)
        self.pool = [w for w in self.pool if w.id != winner.id]

        capacity = s.pool_capacity - s.pool_new
        if self.mode == "full":
            self._learn()
            ids = [w.id for w in self.pool]
            keep = set(cull(ids, self.model.collective_proba(ids), capacity))
            self.pool = [w for w in self.pool if w.id in keep]
        else:
            self.pool = self.pool[-capacity:] if capacity > 0 else []
        return result

    def run(self) -> list[RoundResult]:
        return [self.step(r) for r in range(self.settings.rounds)]
