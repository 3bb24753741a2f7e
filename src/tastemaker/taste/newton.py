"""Batched Newton steps for many small, independent Bayesian logistic regressions.

Used to fold members (bias + factors) and items (bias) into a fitted taste model: each
group has a few parameters, a Gaussian prior and the votes that touch it, so an exact
MAP estimate takes a handful of vectorised Newton steps.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def map_newton(
    group: np.ndarray,
    phi: np.ndarray,
    offset: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    theta0: np.ndarray,
    prior_mean: np.ndarray,
    prior_prec: np.ndarray,
    n_iter: int = 8,
) -> np.ndarray:
    """MAP of ``theta[g]`` for logit = offset + phi . theta[group] under N(mean, prec^-1).

    ``group`` holds codes 0..n-1 per vote, ``phi`` the (N, p) design, ``y`` 0/1 labels
    and ``s`` vote weights. Returns the (n, p) estimates.
    """
    theta = theta0.astype(float).copy()
    n, p = theta.shape
    for _ in range(n_iter):
        z = offset + np.einsum("ij,ij->i", phi, theta[group])
        q = expit(z)
        r = s * (q - y)
        h = s * q * (1 - q)
        grad = np.column_stack([np.bincount(group, r * phi[:, a], n) for a in range(p)])
        grad += (theta - prior_mean) @ prior_prec
        hess = np.empty((n, p, p))
        for a in range(p):
            for b in range(a, p):
                val = np.bincount(group, h * phi[:, a] * phi[:, b], n)
                hess[:, a, b] = val
                hess[:, b, a] = val
        hess += prior_prec
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        theta -= step
        if np.abs(step).max() < 1e-6:
            break
    return theta
