"""Which pool work the vote page shows next: the exposure policy (decision 0031).

A round's votes are few (a member sees a few dozen of a pool of hundreds), so where
the impressions go decides how well the tally can find the best work. Works are
ranked in three tiers, the least-shown first within a tier, then pool order:

1. works shown to fewer than ``min_impressions`` members, so no work loses unseen;
2. the *focus*: the works with the highest optimistic live up-rate,
   ``(ups + 0.5) / (votes + 2) + explore / sqrt(votes + 1)``; the focus shrinks from
   the whole pool when the round opens to ``floor_share`` of it when it closes, so late
   votes go where one more vote can still change the winner;
3. the rest.

The focus reads only vote counts (not VP, not the tally's model): it is cheap enough to
refresh every few seconds under a crowd, and it steers who sees what, never how votes
count. The simulator (``sim.community``) calls the same code as the web app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BELOW_MINIMUM, IN_FOCUS, REST = 0, 1, 2
IMPRESSIONS_PER_WORK = 16  # views a round should give each pool work (decision 0032)


@dataclass(frozen=True)
class ExposurePolicy:
    min_impressions: int = 3
    explore: float = 0.3
    floor_share: float = 0.07

    def focus_size(self, n_works: int, progress: float) -> int:
        """How many works are in focus ``progress`` (0 to 1) of the way through a round."""
        left = 1.0 - min(max(progress, 0.0), 1.0)
        floor = math.ceil(n_works * self.floor_share)
        return min(n_works, max(floor, math.ceil(n_works * left)))

    def focus(self, ups: np.ndarray, votes: np.ndarray, progress: float) -> np.ndarray:
        """Indices of the works in focus, the most promising first (ties: pool order)."""
        ups = np.asarray(ups, dtype=float)
        votes = np.asarray(votes, dtype=float)
        optimistic = (ups + 0.5) / (votes + 2.0) + self.explore / np.sqrt(votes + 1.0)
        return np.argsort(-optimistic, kind="stable")[: self.focus_size(len(ups), progress)]

    def tier(self, shown: int, in_focus: bool) -> int:
        """One work's tier (``tiers`` for a whole pool)."""
        if shown < self.min_impressions:
            return BELOW_MINIMUM
        return IN_FOCUS if in_focus else REST

    def tiers(self, shown: np.ndarray, focus: np.ndarray) -> np.ndarray:
        tier = np.full(len(shown), REST)
        tier[focus] = IN_FOCUS
        tier[np.asarray(shown) < self.min_impressions] = BELOW_MINIMUM
        return tier

    def order(self, shown: np.ndarray, focus: np.ndarray) -> np.ndarray:
        """Pool indices in the order the vote page offers them."""
        shown = np.asarray(shown)
        return np.lexsort((np.arange(len(shown)), shown, self.tiers(shown, focus)))


def pool_size_for(
    voters: int, views_each: int, impressions_per_work: int = IMPRESSIONS_PER_WORK
) -> int:
    """A pool the community can judge: ``voters * views_each`` impressions a round give
    each work about ``impressions_per_work`` views (decision 0032). A pool larger than
    that spreads the votes so thin that no tally can tell its best works apart."""
    if voters < 1 or views_each < 1 or impressions_per_work < 1:
        raise ValueError("voters, views_each and impressions_per_work must be positive")
    return max(1, voters * views_each // impressions_per_work)


def round_progress(opens_at: float, closes_at: float, now: float) -> float:
    """The share of a round's voting window that has passed (0 before, 1 after)."""
    if closes_at <= opens_at:
        return 1.0
    return min(max((now - opens_at) / (closes_at - opens_at), 0.0), 1.0)


VOTE_PAGE = ExposurePolicy()
