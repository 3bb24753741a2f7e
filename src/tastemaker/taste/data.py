"""The two inputs of a taste model: votes and item feature vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tastemaker.errors import UsageError


def _ids(values: object) -> np.ndarray:
    return np.asarray(values).astype(str)


@dataclass(frozen=True)
class Votes:
    """Up/down votes: one row per (member, item) with direction +1/-1 and a VP weight."""

    member_ids: np.ndarray
    item_ids: np.ndarray
    direction: np.ndarray
    weight: np.ndarray

    @classmethod
    def from_arrays(
        cls,
        member_ids: object,
        item_ids: object,
        direction: object,
        weight: object | None = None,
    ) -> Votes:
        members, items = _ids(member_ids), _ids(item_ids)
        d = np.asarray(direction, dtype=float)
        n = len(members)
        if len(items) != n or len(d) != n:
            raise UsageError("member_ids, item_ids and direction must have the same length")
        if not np.isin(d, (-1.0, 1.0)).all():
            raise UsageError("every vote direction must be 1 or -1")
        w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
        if len(w) != n:
            raise UsageError("weight must have one value per vote")
        if not np.isfinite(w).all() or (w <= 0).any():
            raise UsageError("every vote weight must be a positive finite number")
        return cls(members, items, d.astype(np.int8), w)

    def __len__(self) -> int:
        return len(self.member_ids)

    def subset(self, mask: np.ndarray) -> Votes:
        return Votes(
            self.member_ids[mask], self.item_ids[mask], self.direction[mask], self.weight[mask]
        )

    @staticmethod
    def concat(parts: list[Votes]) -> Votes:
        return Votes(
            np.concatenate([p.member_ids for p in parts]),
            np.concatenate([p.item_ids for p in parts]),
            np.concatenate([p.direction for p in parts]),
            np.concatenate([p.weight for p in parts]),
        )


@dataclass(frozen=True)
class Items:
    """Feature vectors of items (works): ``features[k]`` describes ``ids[k]``.

    The last ``n_stats`` columns, if any, are a few hand-made statistics (such as a
    text's log length) that the taste model maps to taste before the embedding
    (decision 0016).
    """

    ids: np.ndarray
    features: np.ndarray
    n_stats: int = 0

    @classmethod
    def from_arrays(cls, ids: object, features: object, n_stats: int = 0) -> Items:
        item_ids = _ids(ids)
        x = np.asarray(features, dtype=float)
        if x.ndim != 2 or x.shape[0] != len(item_ids):
            raise UsageError("features must be a 2-D array with one row per item id")
        if not 0 <= n_stats < x.shape[1]:
            raise UsageError("n_stats must leave at least one embedding feature")
        if not np.isfinite(x).all():
            raise UsageError("item features must be finite numbers")
        if len(np.unique(item_ids)) != len(item_ids):
            raise UsageError("item ids must be unique")
        return cls(item_ids, x, int(n_stats))

    def __len__(self) -> int:
        return len(self.ids)
