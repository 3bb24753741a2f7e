"""engine 2.0's elementary functions: close to the true values, and exact at the
points where a picture's symmetry depends on them."""

from __future__ import annotations

import numpy as np
import pytest

from tastemaker.generate.cppn import detmath

WIDE = np.concatenate([np.linspace(-300, 300, 200_001), [0.0, -0.0, 1e-30, 7.9, 8.0, 40.0]])


@pytest.mark.parametrize(
    ("name", "reference"), [("sin", np.sin), ("cos", np.cos), ("tanh", np.tanh)]
)
def test_functions_agree_with_float64_to_a_few_float32_ulps(name: str, reference) -> None:
    x = WIDE.astype(np.float32)
    got = detmath.apply(name, x)
    assert got.dtype == np.float32
    assert np.abs(got - reference(x.astype(np.float64))).max() < 4e-7


def test_exp_covers_what_a_gauss_activation_needs() -> None:
    x = np.concatenate([np.linspace(-90, 0, 100_001), [-87.0, -86.9, -1e-8, 5.0]]).astype(
        np.float32
    )
    got = detmath.apply("exp_nonpositive", x)
    want = np.exp(np.minimum(x, 0).astype(np.float64))
    normal = x >= -87
    assert np.all(np.abs(got[normal] - want[normal]) <= 3e-7 * want[normal] + 1e-38)
    assert np.all(got[~normal] == 0)


def test_atan2_agrees_with_float64_in_every_quadrant_and_on_the_axes() -> None:
    rng = np.random.default_rng(5)
    y = np.concatenate([rng.normal(size=200_000) * 5, [0, 0, 1, -1, 0, 2, -2]]).astype(np.float32)
    x = np.concatenate([rng.normal(size=200_000) * 5, [0, -1, 0, 0, 1, 2, -2]]).astype(np.float32)
    got = detmath.apply_atan2(y, x)
    assert np.abs(got - np.arctan2(y.astype(np.float64), x.astype(np.float64))).max() < 4e-7
    assert got[-7] == 0  # the centre of a radial picture


def test_non_finite_inputs_give_non_finite_or_clamped_results_not_garbage() -> None:
    x = np.array([np.inf, -np.inf, np.nan], np.float32)
    assert np.isnan(detmath.apply("sin", x)).all()
    assert list(detmath.apply("tanh", x[:2])) == [1.0, -1.0]


def test_log_agrees_with_float64_to_a_few_float32_ulps_across_the_float32_range() -> None:
    rng = np.random.default_rng(9)
    x = np.concatenate(
        [
            np.exp(rng.uniform(-87, 88, 200_000)),
            np.linspace(0.5, 2.0, 100_001),
            [1.0, 2.0, 0.5, np.sqrt(0.5), np.sqrt(2.0), 1e-30, 3e38],
        ]
    ).astype(np.float32)
    got = detmath.apply("log", x)
    assert got.dtype == np.float32
    want = np.log(x.astype(np.float64))
    assert np.all(np.abs(got - want) <= 2.5e-7 * np.maximum(np.abs(want), 1.0))
    assert detmath.apply("log", np.array([1.0, 0.0], np.float32))[0] == 0.0
    assert abs(detmath.apply("log", np.array([0.0], np.float32))[0] + 87.336) < 1e-3


def test_general_exp_agrees_with_float64_and_saturates_at_the_ends() -> None:
    x = np.concatenate([np.linspace(-87, 88, 200_001), [0.0, 1.0, -1.0]]).astype(np.float32)
    got = detmath.apply("exp", x)
    want = np.exp(x.astype(np.float64))
    assert np.all(np.abs(got - want) <= 3e-7 * want)
    assert detmath.apply("exp", np.array([0.0], np.float32))[0] == 1.0
    ends = detmath.apply("exp", np.array([-500.0, 500.0], np.float32))
    assert np.isfinite(ends).all() and ends[0] < 2e-38 and ends[1] > 1e38


def test_new_functions_leave_exp_nonpositive_unchanged() -> None:
    x = np.linspace(-80, 0, 10_001).astype(np.float32)
    old = detmath.apply("exp_nonpositive", x)
    new = detmath.apply("exp", x)
    assert np.abs(old - new).max() <= 3e-7 * np.abs(old).max()
