from __future__ import annotations

import numpy as np
import pytest

from tastemaker.errors import UsageError
from tastemaker.generate import get_engine
from tastemaker.taste.curate import CurationSettings, cull, curate
from tastemaker.taste.evolve import NoveltyArchive, breed, choose_parents, screen


def test_curate_prefers_high_scores_and_rejects_near_duplicates() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((30, 4))
    # Candidate 30 is a copy of candidate 0 (the best) with a tiny change.
    features = np.vstack([base, base[0] + 1e-6])
    predicted = np.r_[np.linspace(3, 0, 30), 3.0]
    chosen = curate(
        features, predicted, np.zeros(31), 10, settings=CurationSettings(surprise_share=0.0)
    )
    assert len(chosen) == 10
    assert 0 in chosen or 30 in chosen
    assert not {0, 30} <= set(chosen.tolist())
    assert np.mean(predicted[chosen]) > np.mean(predicted)


def test_uncertainty_bonus_and_surprises() -> None:
    rng = np.random.default_rng(1)
    features = rng.standard_normal((40, 3))
    predicted = np.zeros(40)
    uncertainty = np.zeros(40)
    uncertainty[7] = 5.0
    chosen = curate(
        features, predicted, uncertainty, 5, settings=CurationSettings(surprise_share=0)
    )
    assert chosen[0] == 7
    # Surprises come from the candidates farthest from past winners.
    winners = features[:5] + 0.01
    settings = CurationSettings(surprise_share=0.4, exploration=0.0)
    far = np.linalg.norm((features[:, None, :] - winners[None]) / features.std(0), axis=2).min(
        axis=1
    )
    picked = curate(features, -far, np.zeros(40), 5, winners, settings)
    assert far[picked[:2]].min() >= np.quantile(far, 0.75) - 1e-9


def test_curate_validates_lengths() -> None:
    with pytest.raises(UsageError):
        curate(np.zeros((3, 2)), np.zeros(2), np.zeros(3), 1)


def test_cull_keeps_best_posterior() -> None:
    ids = ["a", "b", "c", "d"]
    assert cull(ids, np.array([0.1, 0.9, 0.5, 0.2]), 2) == ["b", "c"]
    assert cull(ids, np.zeros(4), 10) == ids


def test_novelty_archive() -> None:
    archive = NoveltyArchive(capacity=5)
    assert archive.novelty(np.ones((2, 3)), 3).tolist() == [0.0, 0.0]
    archive.add(np.random.default_rng(0).standard_normal((8, 3)))
    assert len(archive.rows) == 5
    near, far = archive.novelty(np.vstack([archive.rows[0], np.full(3, 50.0)]), 2)
    assert far > near


def test_breed_and_select_with_the_engine() -> None:
    engine = get_engine("cppn")
    rng = np.random.default_rng(2)
    genomes = [engine.random(rng) for _ in range(6)]
    parents = choose_parents(genomes[:1], [(g, float(k)) for k, g in enumerate(genomes)], 3, rng)
    assert len(parents) == 3
    assert len({p.id for p in parents}) == 3
    children = breed(engine, parents, 12, rng)
    assert len(children) == 12
    for child in children:
        engine.validate(child)
    assert any(set(c.parents) & {p.id for p in parents} for c in children)
    keep = screen(np.arange(12.0), np.zeros(12), 4)
    assert sorted(keep.tolist()) == [8, 9, 10, 11]
