"""Curation: choose which candidates enter the voting pool, and cull the rolling pool.

``curate`` ranks candidates by predicted approval (logit) plus an uncertainty bonus
(optimism under uncertainty, so the model keeps learning), walks down the ranking and
accepts a candidate only if it is not a near-duplicate of one already accepted (distance
in standardised feature space), and reserves a share of the slots for *surprises*: the
best-scoring candidates among those farthest from past winners.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tastemaker.errors import UsageError


@dataclass(frozen=True)
class CurationSettings:
    exploration: float = 0.5  # weight of the uncertainty bonus, in logit units per std
    duplicate_quantile: float = 0.05  # pairs closer than this quantile count as duplicates
    surprise_share: float = 0.1  # share of the slots kept for works unlike past winners
    surprise_pool: float = 0.25  # "far from winners" = the farthest quarter of candidates


def standardise(features: np.ndarray) -> np.ndarray:
    std = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def curate(
    features: np.ndarray,
    predicted_logit: np.ndarray,
    uncertainty: np.ndarray,
    k: int,
    past_winners: np.ndarray | None = None,
    settings: CurationSettings | None = None,
) -> np.ndarray:
    """Indices of the ``k`` candidates to show (fewer if too few are distinct enough).

    ``features`` are the candidates' feature rows, ``past_winners`` feature rows of
    earlier winners in the same space (may be empty or None).
    """
    settings = settings or CurationSettings()
    n = len(features)
    if not (len(predicted_logit) == len(uncertainty) == n):
        raise UsageError("features, predicted_logit and uncertainty must have the same length")
    if k <= 0 or n == 0:
        return np.array([], dtype=int)
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    z = (features - mean) / std
    dist = _pairwise(z, z)
    upper = dist[np.triu_indices(n, 1)]
    min_distance = float(np.quantile(upper, settings.duplicate_quantile)) if n > 1 else 0.0
    score = predicted_logit + settings.exploration * uncertainty

    chosen: list[int] = []

    def take(order: np.ndarray, limit: int) -> None:
        for idx in order:
            if len(chosen) >= limit:
                return
            if idx in chosen:
                continue
            if chosen and dist[idx, chosen].min() < min_distance:
                continue
            chosen.append(int(idx))

    n_surprise = round(settings.surprise_share * k)
    if n_surprise and past_winners is not None and len(past_winners):
        far = _pairwise(z, (np.asarray(past_winners) - mean) / std).min(axis=1)
        cut = np.quantile(far, 1 - settings.surprise_pool)
        candidates = np.flatnonzero(far >= cut)
        take(candidates[np.argsort(-score[candidates])], n_surprise)
    take(np.argsort(-score), k)
    return np.array(chosen, dtype=int)


def cull(pool_ids: list[str], posterior: np.ndarray, capacity: int) -> list[str]:
    """The rolling pool after culling: the ``capacity`` works with the best posterior."""
    if len(pool_ids) != len(posterior):
        raise UsageError("pool_ids and posterior must have the same length")
    if len(pool_ids) <= capacity:
        return list(pool_ids)
    keep = np.argsort(-np.asarray(posterior), kind="stable")[:capacity]
    return [pool_ids[k] for k in sorted(keep)]
