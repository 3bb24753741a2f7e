"""Blend weights for the taste model's parts, learned on an inner validation split.

The taste model has three logits per (member, item): the factor model, the neighbour
regression and the vote autoencoder. How much each should count depends on how many
votes the member has cast (the autoencoder and the regressions were trained to serve
newcomers, the factors shrink hard toward the collective). Rather than fix the weights,
``fit`` holds out part of its own training votes, fits the parts on the rest, and fits a
logistic regression from the parts' logits, each also multiplied by
``t = 1 / sqrt(1 + member's votes)``, to the held-out votes (decision 0017). The
test data of a benchmark never enters: the split is carved from the training votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from tastemaker.taste.data import Votes

PARTS = ("factors", "neighbours", "autoencoder")
# Inner split: this share of members with enough votes become inner newcomers who keep
# only REVEALED votes; of the other members' votes this share is held out.
NEWCOMER_SHARE = 0.15
REVEALED = 10
HELD_SHARE = 0.1
# Members need this many votes to be an inner newcomer (so some remain to score).
MIN_NEWCOMER_VOTES = 20
# Inverse L2 penalty of the stacker (its few coefficients are well determined).
STACK_C = 1.0


@dataclass(frozen=True)
class InnerSplit:
    train: Votes
    held: Votes


def inner_split(votes: Votes, rng: np.random.Generator) -> InnerSplit:
    """Training votes minus held-out ones: some members keep only ``REVEALED`` votes."""
    members, inverse, counts = np.unique(votes.member_ids, return_inverse=True, return_counts=True)
    eligible = np.flatnonzero(counts >= MIN_NEWCOMER_VOTES)
    newcomers = np.zeros(len(members), bool)
    newcomers[rng.choice(eligible, int(NEWCOMER_SHARE * len(eligible)), replace=False)] = True
    # A random order of every vote; a newcomer keeps the first REVEALED of theirs.
    order = rng.permutation(len(votes))
    rank = np.empty(len(votes), np.int64)
    by_member = order[np.argsort(inverse[order], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[by_member] = np.arange(len(votes)) - np.repeat(starts, counts)
    is_new = newcomers[inverse]
    held = np.where(is_new, rank >= REVEALED, rng.random(len(votes)) < HELD_SHARE)
    return InnerSplit(votes.subset(~held), votes.subset(held))


def stack_features(parts: dict[str, np.ndarray], member_votes: np.ndarray) -> np.ndarray:
    """The parts' logits and each times t = 1 / sqrt(1 + votes), plus t itself.

    Vote counts below ``REVEALED`` count as ``REVEALED``: the stacker never sees fewer
    (inner newcomers keep 10), so a member with no votes gets the 10-vote weights
    instead of an extrapolation.
    """
    t = 1.0 / np.sqrt(1.0 + np.maximum(member_votes, REVEALED))
    z = np.column_stack([parts[k] for k in PARTS])
    return np.column_stack([z, z * t[:, None], t])


def fit_stack(
    parts: dict[str, np.ndarray], member_votes: np.ndarray, y: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, float]:
    """Logistic regression of held-out votes (0/1) on ``stack_features``; rows where a
    part is missing (NaN) are left out. Returns coefficients and intercept."""
    x = stack_features(parts, member_votes)
    ok = np.isfinite(x).all(axis=1)
    if ok.sum() < 10 or len(np.unique(y[ok])) < 2:
        raise ValueError("too few held-out votes to fit the blend")
    lr = LogisticRegression(C=STACK_C, max_iter=1000)
    lr.fit(x[ok], y[ok], sample_weight=weight[ok] / weight[ok].mean())
    return lr.coef_[0].copy(), float(lr.intercept_[0])


def apply_stack(
    parts: dict[str, np.ndarray], member_votes: np.ndarray, coef: np.ndarray, intercept: float
) -> np.ndarray:
    """The stacked logit; NaN where a part is missing."""
    return stack_features(parts, member_votes) @ coef + intercept
