"""Hand-made item statistics (a text's log length) beside the embedding (decision 0016)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tastemaker.errors import UsageError
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.embed_text import text_statistics
from tastemaker.taste.model import TasteModel


def _length_drives_taste(n_items: int = 60, n_members: int = 200, seed: int = 0):
    """Items' appeal is their (log) length; the 200-d 'embedding' is pure noise."""
    rng = np.random.default_rng(seed)
    texts = ["x" * int(n) for n in rng.integers(20, 2000, n_items)]
    stats = text_statistics(texts)
    appeal = 2.0 * (stats[:, 0] - stats[:, 0].mean())
    noisy = appeal[None, :] + rng.logistic(size=(n_members, n_items))
    m, i = np.nonzero(rng.random((n_members, n_items)) < 0.6)
    votes = Votes.from_arrays(
        [f"m{k}" for k in m], [f"i{k}" for k in i], np.where(noisy[m, i] > 0, 1, -1)
    )
    x = np.hstack([rng.standard_normal((n_items, 200)), stats])
    return votes, [f"i{k}" for k in range(n_items)], x, appeal


def test_text_statistics_is_log_length() -> None:
    np.testing.assert_allclose(text_statistics(["", "abc"]), [[0.0], [np.log(4.0)]])


def test_a_statistic_speaks_for_cold_items_through_many_noise_dimensions() -> None:
    votes, ids, x, appeal = _length_drives_taste()
    cold = np.array(ids[40:])
    warm = votes.subset(~np.isin(votes.item_ids, cold))
    with_stats = TasteModel(n_factors=1).fit(warm, Items.from_arrays(ids, x, n_stats=1))
    pooled = TasteModel(n_factors=1).fit(warm, Items.from_arrays(ids, x))
    truth = appeal[40:] > np.median(appeal[40:])
    assert roc_auc_score(truth, with_stats.collective_proba(cold)) > 0.9
    # One ridge over all 201 columns lets the noise drown the statistic.
    assert roc_auc_score(truth, pooled.collective_proba(cold)) < 0.8
    assert with_stats.model_card_["n_stats"] == 1


def test_statistic_columns_must_match() -> None:
    votes, ids, x, _ = _length_drives_taste(n_items=20, n_members=40)
    with pytest.raises(UsageError, match="n_stats"):
        Items.from_arrays(ids, x[:, -1:], n_stats=1)
    model = TasteModel(n_factors=1).fit(votes, Items.from_arrays(ids, x, n_stats=1))
    with pytest.raises(UsageError, match="statistic columns"):
        model.add_items(Items.from_arrays(["new"], x[:1]))
