from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tastemaker.errors import UsageError
from tastemaker.generate import get_engine
from tastemaker.sim import Community
from tastemaker.sim.loop import LoopSettings, SimulatedLoop, tally_winner
from tastemaker.sim.perception import RandomConvPerception


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    engine = get_engine("cppn")
    rng = np.random.default_rng(5)
    return [engine.render(engine.random(rng), 48) for _ in range(40)]


def test_perception_is_fixed_by_seed(images) -> None:
    a, b, c = RandomConvPerception(1), RandomConvPerception(1), RandomConvPerception(2)
    np.testing.assert_array_equal(a.features(images[0]), b.features(images[0]))
    assert not np.allclose(a.features(images[0]), c.features(images[0]))
    assert a.features(images[0]).shape == (a.dim,)


def test_community_needs_calibration_and_judges_consistently(images) -> None:
    community = Community(n_members=30, seed=3)
    with pytest.raises(UsageError, match="calibrate"):
        community.approval(images[:2])
    community.calibrate(images)
    approval = community.approval(images)
    assert approval.shape == (len(images),)
    assert ((approval >= 0) & (approval <= 1)).all()
    assert approval.std() > 0.05  # some works are clearly liked more than others
    # Members share part of their taste: their approvals correlate across works.
    p = community.up_probability(images)
    corr = np.corrcoef(p)[np.triu_indices(30, 1)]
    assert corr.mean() > 0.2
    assert corr.min() < 0.9  # but they are not clones


def test_vote_round_has_uneven_exposure_and_respects_vp(images) -> None:
    community = Community(n_members=40, seed=4, views_per_member=10)
    community.calibrate(images)
    ids = [f"w{k}" for k in range(len(images))]
    votes, impressions = community.vote_round(ids, images, np.random.default_rng(0))
    assert votes and impressions
    shown = Counter(i.work_id for i in impressions)
    assert max(shown.values()) >= 3 * max(min(shown.values()), 1)
    seen = {(i.member_id, i.work_id) for i in impressions}
    assert all((v.member_id, v.work_id) in seen for v in votes)
    spent = Counter()
    for v in votes:
        assert v.direction in (1, -1)
        spent[v.member_id] += v.amount
    vp = {m.member_id: m.voting_power for m in community.members}
    assert all(spent[m] <= vp[m] * (1 + 1e-9) for m in spent)
    # Votes follow hidden taste: liked works collect a higher share of up votes.
    approval = dict(zip(ids, community.approval(images), strict=True))
    up = [approval[v.work_id] for v in votes if v.direction > 0]
    down = [approval[v.work_id] for v in votes if v.direction < 0]
    assert np.mean(up) > np.mean(down)


def test_adaptive_exposure_shows_every_work_then_favours_the_liked_ones(images) -> None:
    community = Community(n_members=60, seed=4, views_per_member=12)
    community.calibrate(images)
    ids = [f"w{k}" for k in range(len(images))]
    approval = community.approval(images)
    views: dict[str, np.ndarray] = {}
    for policy in ("least_shown", "adaptive"):
        _, impressions = community.vote_round(
            ids, images, np.random.default_rng(1), exposure=policy
        )
        shown = Counter(i.work_id for i in impressions)
        views[policy] = np.array([shown[w] for w in ids])
        assert len({(i.member_id, i.work_id) for i in impressions}) == len(impressions)
    assert views["adaptive"].min() >= community.policy.min_impressions
    assert views["least_shown"].max() - views["least_shown"].min() <= 1
    liked = approval >= np.quantile(approval, 0.75)
    assert views["adaptive"][liked].mean() > 1.3 * views["adaptive"][~liked].mean()


@pytest.mark.slow
def test_full_loop_runs_and_learns(images) -> None:
    engine = get_engine("cppn")
    community = Community(n_members=30, seed=6)
    community.calibrate(images)
    settings = LoopSettings(rounds=3, candidates=20, pool_new=8, pool_capacity=16, size=32)
    loop = SimulatedLoop(engine, community, settings, mode="full")
    results = loop.run()
    assert [r.round for r in results] == [0, 1, 2]
    assert loop.model is not None
    assert loop.model.model_card_["votes_seen"] == sum(r.votes for r in results)
    assert len(loop.winners) == 3
    assert len({w.id for w in loop.winners}) == 3
    assert len(loop.pool) <= settings.pool_capacity - settings.pool_new


def test_tally_prefers_approved_works(images) -> None:
    from tastemaker.sim.community import Impression, SimVote
    from tastemaker.sim.loop import Work

    works = [Work(g, images[k], np.zeros(3)) for k, g in enumerate(_genomes(3))]
    votes = [SimVote(f"m{k}", works[1].id, 1, 10.0) for k in range(5)]
    votes += [SimVote(f"m{k}", works[0].id, 1 if k < 2 else -1, 10.0) for k in range(5)]
    impressions = [Impression(f"m{k}", w.id) for k in range(5) for w in works]
    assert tally_winner(works, votes, impressions, 3).id == works[1].id


def _genomes(n: int):
    engine = get_engine("cppn")
    rng = np.random.default_rng(9)
    return [engine.random(rng) for _ in range(n)]
