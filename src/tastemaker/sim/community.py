"""A simulated community: members with hidden tastes who look at works and vote.

Each member's taste is a direction in the perceptual space of ``RandomConvPerception``:
a shared component (what the community agrees on) plus an individual one. Members differ
in strictness (their approval threshold), attention (how many works they look at),
voting power (log-normal, so a few whales), and exposure is uneven (some works are shown
far more than others). Votes are noisy: a member votes up with probability
sigmoid((utility - threshold) / temperature).

Used by the benchmarks and the round demo:

    community = Community(n_members=60, seed=1)
    community.calibrate(reference_images)          # fixes scales and thresholds
    community.approval(images)                     # hidden truth, for measuring only
    votes, impressions = community.vote_round(work_ids, images, rng)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from tastemaker.errors import UsageError
from tastemaker.rounds.exposure import VOTE_PAGE
from tastemaker.sim.perception import RandomConvPerception


@dataclass(frozen=True)
class SimMember:
    member_id: str
    taste: np.ndarray  # unit direction in the standardised perceptual space
    strictness: float  # quantile of reference works this member would not approve
    voting_power: float
    attention: float  # expected share of the shown works the member votes on


@dataclass(frozen=True)
class SimVote:
    member_id: str
    work_id: str
    direction: int  # +1 up, -1 down
    amount: float  # VP spent


@dataclass(frozen=True)
class Impression:
    member_id: str
    work_id: str


class Community:
    """Members with hidden tastes; see the module docstring for the model."""

    def __init__(
        self,
        n_members: int = 60,
        shared: float = 0.6,
        temperature: float = 0.5,
        attention: float = 0.6,
        views_per_member: int = 24,
        seed: int = 0,
    ) -> None:
        if n_members < 1:
            raise UsageError("a community needs at least one member")
        if not 0.0 <= shared <= 1.0:
            raise UsageError("shared must lie between 0 and 1")
        rng = np.random.default_rng(seed)
        self.perception = RandomConvPerception(seed=seed + 1000)
        self.temperature = temperature
        self.views_per_member = views_per_member
        self.policy = VOTE_PAGE  # the "adaptive" exposure: the vote page's own policy
        dim = self.perception.dim
        common = rng.standard_normal(dim)
        common /= np.linalg.norm(common)
        self.shared_taste = common
        members = []
        for k in range(n_members):
            own = rng.standard_normal(dim)
            own /= np.linalg.norm(own)
            taste = np.sqrt(shared) * common + np.sqrt(1 - shared) * own
            members.append(
                SimMember(
                    member_id=f"sim{k:04d}",
                    taste=taste / np.linalg.norm(taste),
                    strictness=float(rng.uniform(0.75, 0.95)),
                    voting_power=float(np.exp(rng.normal(0.0, 1.0)) * 100),
                    attention=float(np.clip(rng.beta(2, 2) * 2 * attention, 0.05, 1.0)),
                )
            )
        self.members = members
        self._tastes = np.vstack([m.taste for m in members])
        self._mean: np.ndarray | None = None
        self._scale: np.ndarray | None = None
        self._thresholds: np.ndarray | None = None

    # ---------------------------------------------------------------- hidden truth

    def calibrate(self, reference_images: Sequence[np.ndarray]) -> None:
        """Fix feature scales and each member's threshold from typical (random) works."""
        if len(reference_images) < 10:
            raise UsageError("calibrate the community on at least 10 reference images")
        raw = self.perception.batch(list(reference_images))
        self._mean = raw.mean(axis=0)
        std = raw.std(axis=0)
        self._scale = np.where(std > 1e-9, std, 1.0)
        # A picky community: each member approves only their top 5-25% of typical works.
        util = self._tastes @ self._standardise(raw).T  # members x refs
        strict = np.array([m.strictness for m in self.members])
        self._thresholds = np.array(
            [np.quantile(row, q) for row, q in zip(util, strict, strict=True)]
        )
        self._spread = util.std(axis=1)

    def _standardise(self, raw: np.ndarray) -> np.ndarray:
        if self._mean is None or self._scale is None:
            raise UsageError("call Community.calibrate(reference_images) first")
        # Perception saturates: no single extreme feature makes a work universally loved.
        return np.tanh((raw - self._mean) / self._scale)

    def perceive(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self._standardise(self.perception.batch(list(images)))

    def up_probability(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """P(up) of every member for every image: (n_members, n_images)."""
        z = self._tastes @ self.perceive(images).T
        assert self._thresholds is not None
        scaled = (z - self._thresholds[:, None]) / (self._spread[:, None] * self.temperature)
        return expit(scaled)

    def approval(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Hidden-taste approval of each image: the mean member's P(up). For measuring only."""
        return self.up_probability(images).mean(axis=0)

    # ---------------------------------------------------------------- behaviour

    def exposure(self, n_works: int, rng: np.random.Generator) -> np.ndarray:
        """Uneven chances of being shown: a random order with Zipf-like weights."""
        weights = 1.0 / np.arange(1, n_works + 1) ** 0.7
        weights = weights[rng.permutation(n_works)]
        return weights / weights.sum()

    def vote_round(
        self,
        work_ids: Sequence[str],
        images: Sequence[np.ndarray],
        rng: np.random.Generator,
        exposure: str = "uneven",
    ) -> tuple[list[SimVote], list[Impression]]:
        """Every member is shown some works and votes on some of them.

        ``exposure="uneven"``: works are shown with Zipf-like chances (a feed that
        favours some works). ``"least_shown"``: the vote page before decision 0031:
        members arrive in a random order and each is shown the works with the fewest
        impressions so far, ties at random. ``"adaptive"``: the vote page's policy
        (``rounds.exposure``, decision 0031), one view at a time, its focus refreshed
        as each member arrives and the round's progress measured by arrivals. A member
        splits their voting power evenly over the votes they cast this round.
        """
        if exposure not in ("uneven", "least_shown", "adaptive"):
            raise UsageError(f"unknown exposure policy {exposure!r}")
        if len(work_ids) != len(images):
            raise UsageError("work_ids and images must have the same length")
        n = len(work_ids)
        if n == 0:
            return [], []
        prob = self.up_probability(images)
        shown_p = self.exposure(n, rng)
        counts = np.zeros(n)
        ups = np.zeros(n)
        cast = np.zeros(n)
        order = (
            range(len(self.members))
            if exposure == "uneven"
            else [int(k) for k in rng.permutation(len(self.members))]
        )
        votes: list[SimVote] = []
        impressions: list[Impression] = []
        policy = self.policy
        for arrived, k in enumerate(order):
            member = self.members[k]
            n_views = min(n, int(rng.poisson(self.views_per_member)) + 1)
            if exposure == "uneven":
                shown = rng.choice(n, size=n_views, replace=False, p=shown_p)
            elif exposure == "least_shown":
                shown = np.lexsort((rng.random(n), counts))[:n_views]
            else:
                focus = policy.focus(ups, cast, arrived / len(order))
                shown = np.empty(n_views, dtype=int)
                for view in range(n_views):
                    ranked = policy.order(counts, focus)
                    if view:
                        ranked = ranked[~np.isin(ranked, shown[:view])]
                    shown[view] = ranked[0]
                    counts[ranked[0]] += 1
                counts[shown] -= 1  # counted once below, like the other policies
            counts[shown] += 1
            impressions.extend(Impression(member.member_id, work_ids[j]) for j in shown)
            voted = shown[rng.random(n_views) < member.attention]
            if len(voted) == 0:
                continue
            amount = member.voting_power / len(voted)
            ups_ = rng.random(len(voted)) < prob[k, voted]
            cast[voted] += 1
            ups[voted] += ups_
            votes.extend(
                SimVote(member.member_id, work_ids[j], 1 if up else -1, amount)
                for j, up in zip(voted, ups_, strict=True)
            )
        return votes, impressions
