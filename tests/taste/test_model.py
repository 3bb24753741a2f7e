from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tastemaker.errors import UsageError
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.model import TasteModel
from tests.taste.conftest import synthetic


def _unvoted_pairs(votes: Votes, n_members: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    seen = set(zip(votes.member_ids, votes.item_ids, strict=True))
    pairs = [
        (f"m{m}", f"i{i}")
        for m in range(n_members)
        for i in range(n_items)
        if (f"m{m}", f"i{i}") not in seen
    ]
    members, items = zip(*pairs, strict=True)
    return np.array(members), np.array(items)


def test_learns_personal_taste_on_unvoted_items(toy) -> None:
    votes, items, utility = toy
    model = TasteModel(n_factors=4).fit(votes, items)
    members, item_ids = _unvoted_pairs(votes, *utility.shape)
    p = model.predict_proba(members, item_ids)
    assert p.shape == (len(members),)
    assert ((p > 0) & (p < 1)).all()
    truth = utility[[int(m[1:]) for m in members], [int(i[1:]) for i in item_ids]] > 0
    assert roc_auc_score(truth, p) > 0.75


def test_cold_items_are_judged_by_content() -> None:
    votes, items, utility = synthetic(n_items=60, seed=1)
    cold = {f"i{i}" for i in range(40, 60)}
    warm = votes.subset(~np.isin(votes.item_ids, list(cold)))
    model = TasteModel(n_factors=2).fit(warm, items)
    cold_ids = np.array(sorted(cold))
    assert (model.item_vote_counts(cold_ids) == 0).all()
    collective = model.collective_proba(cold_ids)
    true_mean = utility[:, [int(i[1:]) for i in cold_ids]].mean(axis=0)
    assert roc_auc_score(true_mean > np.median(true_mean), collective) > 0.75


def test_new_members_get_collective_then_fold_in_their_votes() -> None:
    votes, items, utility = synthetic(n_members=120, per_member=25, seed=2)
    newcomers = [f"m{m}" for m in range(90, 120)]
    is_new = np.isin(votes.member_ids, newcomers)
    model = TasteModel(n_factors=6, reg_member=1.0).fit(votes.subset(~is_new), items)
    ids = items.ids
    before = model.predict_proba(np.full(len(ids), "m100"), ids)
    np.testing.assert_allclose(before, model.collective_proba(ids))

    # Each newcomer reveals 8 votes; we rank the items they did not reveal.
    revealed = np.zeros(len(votes), bool)
    for m in newcomers:
        revealed[np.flatnonzero(votes.member_ids == m)[:8]] = True
    aucs_before, aucs_after = [], []
    model.partial_fit(votes.subset(revealed))
    for m in newcomers:
        rest = ids[~np.isin(ids, votes.item_ids[revealed & (votes.member_ids == m)])]
        truth = utility[int(m[1:]), [int(i[1:]) for i in rest]] > 0
        if truth.all() or not truth.any():
            continue
        aucs_before.append(roc_auc_score(truth, model.collective_proba(rest)))
        aucs_after.append(roc_auc_score(truth, model.predict_proba(np.full(len(rest), m), rest)))
    assert np.mean(aucs_after) > np.mean(aucs_before) + 0.02
    assert model.model_card_["votes_seen"] == int((~is_new).sum() + revealed.sum())


def test_vote_weight_is_vp_amount() -> None:
    items = Items.from_arrays(["a", "b"], [[0.0], [1.0]])
    members = [f"m{k}" for k in range(20)]
    ups = Votes.from_arrays(members, ["a"] * 20, [1] * 10 + [-1] * 10, [5.0] * 10 + [1.0] * 10)
    other = Votes.from_arrays(members, ["b"] * 20, [1] * 10 + [-1] * 10)
    model = TasteModel(n_factors=0).fit(Votes.concat([ups, other]), items)
    p = model.collective_proba(["a", "b"])
    assert p[0] > 0.6 > p[1] - 0.1


def test_uncertainty_shrinks_with_votes(toy) -> None:
    votes, items, _ = toy
    extra = Items.from_arrays(["fresh"], np.zeros((1, items.features.shape[1])))
    model = TasteModel(n_factors=2).fit(votes, items)
    model.add_items(extra)
    counts = model.item_vote_counts(items.ids)
    unc = model.item_uncertainty(items.ids)
    assert np.corrcoef(counts, unc)[0, 1] < -0.5
    assert model.item_uncertainty(["fresh"])[0] > unc.max()
    assert model.predict_proba(["m1"], ["fresh"]).shape == (1,)


def test_save_load_round_trip(toy, tmp_path) -> None:
    votes, items, _ = toy
    model = TasteModel(n_factors=3).fit(votes, items)
    model.save(tmp_path / "m")
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["votes_seen"] == len(votes)
    assert card["params"]["n_factors"] == 3
    assert "train_log_loss" in card["metrics"]
    loaded = TasteModel.load(tmp_path / "m")
    members = np.r_[votes.member_ids[:50], ["nobody"]]
    item_ids = np.r_[votes.item_ids[:50], ["i0"]]
    np.testing.assert_allclose(
        loaded.predict_proba(members, item_ids), model.predict_proba(members, item_ids)
    )
    # The loaded model keeps learning.
    loaded.partial_fit(Votes.from_arrays(["nobody"], ["i0"], [1]))
    assert loaded.model_card_["votes_seen"] == len(votes) + 1


def test_bad_inputs_raise_usage_errors(toy, tmp_path) -> None:
    votes, items, _ = toy
    with pytest.raises(UsageError, match="1 or -1"):
        Votes.from_arrays(["m"], ["i0"], [0])
    with pytest.raises(UsageError, match="positive"):
        Votes.from_arrays(["m"], ["i0"], [1], [-2.0])
    model = TasteModel(n_factors=1).fit(votes, items)
    with pytest.raises(UsageError, match="no features"):
        model.predict_proba(["m1"], ["unknown"])
    with pytest.raises(UsageError, match="cannot load"):
        TasteModel.load(tmp_path / "missing")
