from __future__ import annotations

import numpy as np
import pytest

from tastemaker.taste.data import Items, Votes


def synthetic(
    n_members: int = 80, n_items: int = 40, per_member: int = 20, n_features: int = 6, seed: int = 0
) -> tuple[Votes, Items, np.ndarray]:
    """Votes from a shared linear taste over item features plus personal tastes.

    Returns the votes, the items and the true utility table (members x items).
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_items, n_features))
    shared = rng.standard_normal(n_features)
    personal = 0.8 * rng.standard_normal((n_members, n_features))
    utility = x @ (shared + personal).T  # items x members
    utility = utility.T + 0.5 * rng.standard_normal((n_members, 1))
    rows_m, rows_i, dirs = [], [], []
    for m in range(n_members):
        for i in rng.choice(n_items, per_member, replace=False):
            rows_m.append(f"m{m}")
            rows_i.append(f"i{i}")
            noisy = utility[m, i] + rng.logistic()
            dirs.append(1 if noisy > 0 else -1)
    votes = Votes.from_arrays(rows_m, rows_i, dirs)
    items = Items.from_arrays([f"i{i}" for i in range(n_items)], x)
    return votes, items, utility


@pytest.fixture
def toy() -> tuple[Votes, Items, np.ndarray]:
    return synthetic()
