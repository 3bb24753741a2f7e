"""The vote page's exposure policy (decision 0031) on plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tastemaker.rounds.exposure import (
    BELOW_MINIMUM,
    IN_FOCUS,
    REST,
    ExposurePolicy,
    pool_size_for,
    round_progress,
)

POLICY = ExposurePolicy(min_impressions=3, explore=0.3, floor_share=0.2)


def test_the_focus_shrinks_from_the_whole_pool_to_the_floor() -> None:
    assert [POLICY.focus_size(10, p) for p in (0.0, 0.25, 0.5, 0.95, 1.0, 2.0)] == [
        10,
        8,
        5,
        2,
        2,
        2,
    ]
    assert POLICY.focus_size(1, 0.9) == 1  # never more than the pool


def test_the_focus_holds_the_most_promising_works() -> None:
    ups = np.array([0, 5, 1, 0, 3])
    votes = np.array([4, 6, 1, 0, 3])
    # optimistic rates: .125+.134, .6875+.113, .5+.212, .25+.3, .7+.15
    assert POLICY.focus(ups, votes, 1.0).tolist() == [4]
    assert POLICY.focus(ups, votes, 0.5).tolist() == [4, 1, 2]


def test_works_below_the_minimum_come_first_then_the_focus_least_shown_first() -> None:
    shown = np.array([5, 3, 2, 7, 4])
    focus = np.array([3, 4])
    assert POLICY.tiers(shown, focus).tolist() == [REST, REST, BELOW_MINIMUM, IN_FOCUS, IN_FOCUS]
    assert POLICY.order(shown, focus).tolist() == [2, 4, 3, 1, 0]
    assert [POLICY.tier(int(n), k in focus) for k, n in enumerate(shown)] == [2, 2, 0, 1, 1]


def test_progress_is_the_share_of_the_window_passed() -> None:
    assert round_progress(100.0, 200.0, 150.0) == 0.5
    assert round_progress(100.0, 200.0, 50.0) == 0.0
    assert round_progress(100.0, 200.0, 250.0) == 1.0
    assert round_progress(100.0, 100.0, 100.0) == 1.0


def test_the_pool_is_sized_to_what_the_community_can_view() -> None:
    assert pool_size_for(50, 24) == 75  # 1,200 impressions, 16 a work
    assert pool_size_for(50, 24, 8) == 150
    assert pool_size_for(2, 3) == 1  # never an empty pool
    with pytest.raises(ValueError, match="positive"):
        pool_size_for(0, 24)
