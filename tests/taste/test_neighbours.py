"""Neighbour regressions (votes on anchor items -> vote on an item) and pairwise accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tastemaker.taste.data import Items, Votes
from tastemaker.taste.metrics import pairwise_accuracy, per_member_auc
from tastemaker.taste.model import TasteModel


def _clustered(n_members: int = 300, n_items: int = 20, seed: int = 0):
    """Two taste camps: each item is loved by one camp; content says nothing (random)."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 2, n_members)
    item_camp = np.arange(n_items) % 2
    utility = np.where(camp[:, None] == item_camp[None, :], 1.5, -1.5)
    keep = rng.random((n_members, n_items)) < 0.7
    noisy = utility + rng.logistic(size=utility.shape) * 0.7
    m, i = np.nonzero(keep)
    votes = Votes.from_arrays(
        [f"m{k}" for k in m], [f"i{k}" for k in i], np.where(noisy[m, i] > 0, 1, -1)
    )
    items = Items.from_arrays([f"i{k}" for k in range(n_items)], rng.standard_normal((n_items, 3)))
    return votes, items, utility, keep


def test_pairwise_accuracy_counts_every_up_down_pair() -> None:
    members = np.array(["a", "a", "a", "b", "b", "c"])
    y = np.array([1, 0, 0, 1, 0, 1])
    score = np.array([0.9, 0.95, 0.1, 0.2, 0.8, 0.5])
    # a: up 0.9 beats 0.1 but not 0.95 (1 of 2 pairs); b: 0 of 1; c has no pair.
    assert pairwise_accuracy(members, y, score) == pytest.approx(1 / 3)
    assert per_member_auc(members, y, score) == pytest.approx((0.5 + 0.0) / 2)
    ties = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert pairwise_accuracy(members, y, ties) == pytest.approx(0.5)


def test_neighbour_regressions_rank_a_members_unvoted_items() -> None:
    votes, items, utility, keep = _clustered()
    plain = TasteModel(n_factors=0, use_content=False).fit(votes, items)
    model = TasteModel(n_factors=0, use_content=False, neighbour_inputs=20, reg_neighbour=5.0)
    model.fit(votes, items)
    assert model.has_neighbour_.all() and len(model.anchors_) == 20
    # The regression of an item never reads the member's vote on that same item.
    for j, a in enumerate(model.anchors_):
        assert model.neighbour_coef_[a, j] == 0 and model.neighbour_coef_[a, 20 + j] == 0
    m, i = np.nonzero(~keep)
    ids_m, ids_i = [f"m{k}" for k in m], [f"i{k}" for k in i]
    truth = utility[m, i] > 0
    auc_plain = per_member_auc(np.array(ids_m), truth, plain.predict_proba(ids_m, ids_i))
    auc_nb = per_member_auc(np.array(ids_m), truth, model.predict_proba(ids_m, ids_i))
    # Without factors the plain model ranks every member's items alike (about 0.5 here).
    assert auc_plain < 0.6
    assert auc_nb > 0.85


def test_new_member_is_served_by_neighbours_after_fold_in() -> None:
    votes, items, _, _ = _clustered(seed=1)
    model = TasteModel(n_factors=0, use_content=False, neighbour_inputs=20).fit(votes, items)
    ids = items.ids
    # Unknown members get the collective, with and without neighbour regressions.
    np.testing.assert_allclose(
        model.predict_proba(np.full(len(ids), "newbie"), ids), model.collective_proba(ids)
    )
    # A newcomer of camp 0 reveals 4 votes; their other items are ranked by camp.
    shown = ["i0", "i1", "i2", "i3"]
    model.partial_fit(Votes.from_arrays(["newbie"] * 4, shown, [1, -1, 1, -1]))
    rest = np.array([f"i{k}" for k in range(4, 20)])
    p = model.predict_proba(np.full(len(rest), "newbie"), rest)
    assert roc_auc_score(np.arange(4, 20) % 2 == 0, p) > 0.9


def test_neighbours_survive_save_and_load(tmp_path) -> None:
    votes, items, _, _ = _clustered(n_members=120, seed=2)
    model = TasteModel(n_factors=1, neighbour_inputs=8).fit(votes, items)
    model.save(tmp_path / "m")
    loaded = TasteModel.load(tmp_path / "m")
    assert loaded.get_params()["neighbour_inputs"] == 8
    members, item_ids = votes.member_ids[:200], votes.item_ids[:200]
    np.testing.assert_allclose(
        loaded.predict_proba(members, item_ids), model.predict_proba(members, item_ids)
    )
    extra = Items.from_arrays(["fresh"], np.zeros((1, 3)))
    loaded.add_items(extra)
    assert not loaded.has_neighbour_[-1]
    assert loaded.predict_proba(["m1"], ["fresh"]).shape == (1,)


def test_autoencoder_ranks_unvoted_items_serves_newcomers_and_round_trips(tmp_path) -> None:
    votes, items, utility, keep = _clustered()
    # The autoencoder alone (weight 1): its logits must carry the camps by themselves.
    settings = {"n_factors": 0, "autoencoder_hidden": 8, "autoencoder_weight": 1.0}
    model = TasteModel(**settings).fit(votes, items)
    m, i = np.nonzero(~keep)
    p = model.predict_proba([f"m{k}" for k in m], [f"i{k}" for k in i])
    assert roc_auc_score(utility[m, i] > 0, p) > 0.9
    # A newcomer who loves the even items is served by their four votes, no refit.
    model.partial_fit(Votes.from_arrays(["new"] * 4, ["i0", "i1", "i2", "i3"], [1, -1, 1, -1]))
    later = model.predict_proba(["new"] * 2, ["i10", "i11"])
    assert later[0] > 0.7 > 0.3 > later[1]
    model.save(tmp_path)
    again = TasteModel.load(tmp_path)
    assert np.array_equal(again.predict_proba(["new"] * 2, ["i10", "i11"]), later)
