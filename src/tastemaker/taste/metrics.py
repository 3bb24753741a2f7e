"""Ranking metrics: pooled ROC-AUC and mean per-member ROC-AUC."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def pooled_auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score))


def per_member_auc(member_ids: np.ndarray, y: np.ndarray, score: np.ndarray) -> float:
    """Mean ROC-AUC over members with both an up and a down vote (ties count one half)."""
    frame = pd.DataFrame({"m": np.asarray(member_ids), "y": np.asarray(y) > 0, "s": score})
    frame["r"] = frame.groupby("m")["s"].rank(method="average")
    g = frame.groupby("m")
    n_pos = g["y"].sum()
    n = g["y"].size()
    n_neg = n - n_pos
    rank_pos = frame.loc[frame["y"]].groupby("m")["r"].sum().reindex(n_pos.index, fill_value=0.0)
    ok = (n_pos > 0) & (n_neg > 0)
    auc = (rank_pos[ok] - n_pos[ok] * (n_pos[ok] + 1) / 2) / (n_pos[ok] * n_neg[ok])
    return float(auc.mean())


def pairwise_accuracy(member_ids: np.ndarray, y: np.ndarray, score: np.ndarray) -> float:
    """P(a member's up vote is scored above one of their down votes), over all such pairs.

    Every (up, down) pair of the same member counts once (ties one half), so members with
    more votes weigh more; the mean over members of the same probability is the mean
    per-member ROC-AUC.
    """
    frame = pd.DataFrame({"m": np.asarray(member_ids), "y": np.asarray(y) > 0, "s": score})
    frame["r"] = frame.groupby("m")["s"].rank(method="average")
    g = frame.groupby("m")
    n_pos = g["y"].sum()
    n_neg = g["y"].size() - n_pos
    rank_pos = frame.loc[frame["y"]].groupby("m")["r"].sum().reindex(n_pos.index, fill_value=0.0)
    pairs = n_pos * n_neg
    if pairs.sum() == 0:
        return float("nan")
    correct = rank_pos - n_pos * (n_pos + 1) / 2
    return float(correct.sum() / pairs.sum())
