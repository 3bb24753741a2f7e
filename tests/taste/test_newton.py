from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import expit

from tastemaker.taste.newton import map_newton


def test_map_newton_matches_direct_optimisation() -> None:
    rng = np.random.default_rng(3)
    n, p, groups = 300, 3, 4
    group = rng.integers(0, groups, n)
    phi = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    offset = rng.standard_normal(n)
    y = (rng.random(n) < 0.6).astype(float)
    s = rng.uniform(0.5, 2.0, n)
    mean = np.array([0.2, -0.1, 0.0])
    prec = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 4.0]])
    theta = map_newton(group, phi, offset, y, s, np.zeros((groups, p)), mean, prec, n_iter=20)
    for g in range(groups):
        rows = group == g

        def loss(t: np.ndarray, rows: np.ndarray = rows) -> float:
            z = offset[rows] + phi[rows] @ t
            nll = np.sum(s[rows] * (np.logaddexp(0, z) - y[rows] * z))
            return float(nll + 0.5 * (t - mean) @ prec @ (t - mean))

        direct = optimize.minimize(loss, np.zeros(p), method="BFGS").x
        np.testing.assert_allclose(theta[g], direct, atol=1e-4)
        assert expit(offset[rows] + phi[rows] @ theta[g]).shape == (rows.sum(),)
