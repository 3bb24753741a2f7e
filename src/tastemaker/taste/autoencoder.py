"""A denoising autoencoder over members' votes: each member's votes in, every item's logit out.

    h_m = tanh([a_m, o_m] W1 + b1)        a_m: votes (+1/-1, 0 if none), o_m: has a vote
    z_mj = h_m . W2[:, j] + b2_j

Trained by hiding a random share (10-90 %) of each member's votes and predicting the
hidden ones, so one network serves members with many votes and members who revealed a
handful (decision 0016). A member's hidden code ``h_m`` is computed from the votes they
cast, so new members need no refit: their votes are the input.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import expit

# The learned arrays, as saved in model.npz.
AUTOENCODER_KEYS = ("W1", "b1", "W2", "b2")


class VoteAutoencoder:
    """Adam on a masked log loss; numpy only, deterministic for a given seed."""

    def __init__(
        self,
        hidden: int = 64,
        reg: float = 1e-4,
        epochs: int = 40,
        batch: int = 128,
        lr: float = 3e-3,
        keep: tuple[float, float] = (0.1, 0.9),
        random_state: int = 0,
    ) -> None:
        self.hidden = hidden
        self.reg = reg
        self.epochs = epochs
        self.batch = batch
        self.lr = lr
        self.keep = keep
        self.random_state = random_state

    def fit(self, votes: sparse.csr_matrix, weights: sparse.csr_matrix | None = None):
        """``votes``: members x items, +1/-1 where a member voted (explicit zeros absent)."""
        rng = np.random.default_rng(self.random_state)
        a_all = votes.toarray().astype(np.float32)
        s_all = np.abs(a_all) if weights is None else weights.toarray().astype(np.float32)
        n_m, n_i = a_all.shape
        h = self.hidden
        scale1 = np.sqrt(1.0 / (2 * n_i))
        params = {
            "W1": (rng.standard_normal((2 * n_i, h)) * scale1).astype(np.float32),
            "b1": np.zeros(h, np.float32),
            "W2": (rng.standard_normal((h, n_i)) * np.sqrt(1.0 / h)).astype(np.float32),
            "b2": np.zeros(n_i, np.float32),
        }
        # Start the output biases at each item's log-odds of an up vote.
        up = ((a_all > 0) * s_all).sum(0) + 1.0
        down = ((a_all < 0) * s_all).sum(0) + 1.0
        params["b2"][:] = np.log(up / down)
        m1 = {k: np.zeros_like(v) for k, v in params.items()}
        m2 = {k: np.zeros_like(v) for k, v in params.items()}
        step = 0
        for _ in range(self.epochs):
            order = rng.permutation(n_m)
            for start in range(0, n_m, self.batch):
                rows = order[start : start + self.batch]
                a, s = a_all[rows], s_all[rows]
                share = rng.uniform(*self.keep, (len(rows), 1)).astype(np.float32)
                kept = (rng.random(a.shape) < share) & (a != 0)
                target = (~kept) & (a != 0)
                n_t = max(float(target.sum()), 1.0)
                xin = np.hstack([a * kept, kept.astype(np.float32)])
                hid = np.tanh(xin @ params["W1"] + params["b1"])
                z = hid @ params["W2"] + params["b2"]
                # d loss / dz of the weighted log loss on the hidden votes only.
                g = (expit(z) - (a > 0)) * s * target / n_t
                grads = {
                    "W2": hid.T @ g + self.reg * params["W2"],
                    "b2": g.sum(0),
                }
                gh = (g @ params["W2"].T) * (1 - hid**2)
                grads["W1"] = xin.T @ gh + self.reg * params["W1"]
                grads["b1"] = gh.sum(0)
                step += 1
                for k, gk in grads.items():
                    m1[k] = 0.9 * m1[k] + 0.1 * gk
                    m2[k] = 0.999 * m2[k] + 0.001 * gk * gk
                    mhat = m1[k] / (1 - 0.9**step)
                    vhat = m2[k] / (1 - 0.999**step)
                    params[k] -= self.lr * mhat / (np.sqrt(vhat) + 1e-8)
        self.params_ = params
        return self

    def codes(self, votes: sparse.csr_matrix) -> np.ndarray:
        """Each member's hidden code from the votes they cast (rows of ``votes``)."""
        a = votes.toarray().astype(np.float32)
        p = self.params_
        return np.tanh(np.hstack([a, (a != 0).astype(np.float32)]) @ p["W1"] + p["b1"])

    def logits(self, codes: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Logit of row k's member on ``items[k]``."""
        p = self.params_
        return np.einsum("ij,ji->i", codes, p["W2"][:, items]) + p["b2"][items]
