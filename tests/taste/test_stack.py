"""The stacked blend (decision 0017): inner split, stacker, and the model that uses it."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from tastemaker.taste import model as model_module
from tastemaker.taste.data import Votes
from tastemaker.taste.metrics import per_member_auc
from tastemaker.taste.model import TasteModel
from tastemaker.taste.stack import (
    MIN_NEWCOMER_VOTES,
    PARTS,
    REVEALED,
    apply_stack,
    fit_stack,
    inner_split,
    stack_features,
)

from .test_neighbours import _clustered


def test_inner_split_keeps_ten_votes_of_some_members_and_holds_out_others() -> None:
    rng = np.random.default_rng(0)
    n = 200
    members = np.repeat([f"m{k}" for k in range(n)], 30)
    items = np.tile([f"i{k}" for k in range(30)], n)
    votes = Votes.from_arrays(members, items, rng.choice([-1, 1], len(members)))
    split = inner_split(votes, np.random.default_rng(1))
    assert len(split.train) + len(split.held) == len(votes)
    kept = dict(zip(*np.unique(split.train.member_ids, return_counts=True), strict=True))
    newcomers = [m for m, c in kept.items() if c == REVEALED]
    # 15 % of the members keep exactly 10 votes; nobody is dropped entirely.
    assert len(newcomers) == int(0.15 * n)
    assert len(kept) == n
    # The others lose about 10 % of their votes, never a pair that stays in training.
    pairs_train = set(zip(split.train.member_ids, split.train.item_ids, strict=True))
    assert not pairs_train & set(zip(split.held.member_ids, split.held.item_ids, strict=True))
    others = ~np.isin(split.held.member_ids, newcomers)
    assert 0.05 * (n - len(newcomers)) * 30 < others.sum() < 0.15 * (n - len(newcomers)) * 30


def test_inner_split_leaves_members_with_few_votes_as_they_are() -> None:
    votes = Votes.from_arrays(
        ["a"] * (MIN_NEWCOMER_VOTES - 1), list("abcdefghijklmnopqrs"), [1] * 19
    )
    split = inner_split(votes, np.random.default_rng(0))
    assert len(split.train) + len(split.held) == len(votes)
    assert len(split.train) >= len(votes) - 5


def test_stacker_learns_which_part_to_trust_and_how_it_depends_on_vote_count() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    truth = rng.standard_normal(n)
    member_votes = rng.choice([10.0, 60.0], n)
    few = member_votes == 10
    # The factor part is informative only for members with many votes, the autoencoder
    # for everyone, the neighbour part never.
    parts = {
        "factors": np.where(few, rng.standard_normal(n), truth + 0.3 * rng.standard_normal(n)),
        "neighbours": rng.standard_normal(n),
        "autoencoder": truth + 0.6 * rng.standard_normal(n),
    }
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * truth))).astype(float)
    coef, intercept = fit_stack(parts, member_votes, y, np.ones(n))
    assert stack_features(parts, member_votes).shape == (n, 2 * len(PARTS) + 1)
    z = apply_stack(parts, member_votes, coef, intercept)

    def weight_of(key: str, votes: float) -> float:
        k = PARTS.index(key)
        return coef[k] + coef[len(PARTS) + k] / np.sqrt(1 + votes)

    assert weight_of("factors", 60) > weight_of("factors", 10) + 0.3
    assert abs(weight_of("neighbours", 60)) < 0.1
    assert weight_of("autoencoder", 10) > 0.3
    # The stacked logit ranks better than the plain mean of the parts.
    mean = np.mean([parts[k] for k in PARTS], axis=0)
    ids = np.arange(n) % 50
    assert per_member_auc(ids, y, z) > per_member_auc(ids, y, mean) + 0.02


def test_stacker_refuses_when_held_out_votes_are_missing_parts() -> None:
    nan = np.full(5, np.nan)
    parts = {"factors": np.zeros(5), "neighbours": nan, "autoencoder": nan}
    with pytest.raises(ValueError):
        fit_stack(parts, np.ones(5), np.array([0, 1, 0, 1, 1.0]), np.ones(5))


def test_model_with_stacked_blend_ranks_and_round_trips(tmp_path) -> None:
    votes, items, utility, keep = _clustered(n_members=400)
    settings = {
        "n_factors": 2,
        "neighbour_inputs": 20,
        "reg_neighbour": 5.0,
        "autoencoder_hidden": 8,
    }
    fixed = TasteModel(**settings).fit(votes, items)
    stacked = TasteModel(**settings, stack_blend=True).fit(votes, items)
    assert len(fixed.stack_coef_) == 0 and len(stacked.stack_coef_) == 2 * len(PARTS) + 1
    m, i = np.nonzero(~keep)
    ids_m, ids_i = [f"m{k}" for k in m], [f"i{k}" for k in i]
    truth = utility[m, i] > 0
    auc = per_member_auc(np.array(ids_m), truth, stacked.predict_proba(ids_m, ids_i))
    auc_fixed = per_member_auc(np.array(ids_m), truth, fixed.predict_proba(ids_m, ids_i))
    assert auc > 0.85 and auc > auc_fixed - 0.02
    # The parts the blend reads are exposed, and unknown members still get a prediction.
    parts = stacked.component_logits(["m1", "nobody"], ["i1", "i1"])
    assert set(parts) == {*PARTS, "member_votes"} and parts["member_votes"][1] == 0
    assert np.isfinite(stacked.collective_proba(["i1", "i2"])).all()
    stacked.save(tmp_path / "m")
    loaded = TasteModel.load(tmp_path / "m")
    np.testing.assert_allclose(
        loaded.predict_proba(ids_m[:50], ids_i[:50]), stacked.predict_proba(ids_m[:50], ids_i[:50])
    )


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_the_model_runs_with_one_blas_thread() -> None:
    seen: list[set[int]] = []

    @model_module._one_blas_thread
    def probe() -> None:
        seen.append(_blas_threads())

    with threadpool_limits(limits=2, user_api="blas"):
        outside = _blas_threads()
        probe()
    assert seen == [{1}]
    if outside != {2}:
        pytest.skip("BLAS here cannot run two threads, so the limit is not observable")
