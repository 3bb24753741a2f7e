"""Rewards: the voters' share of a round's proceeds, split pro rata to VP spent.

All amounts are integers (wei). Shares are floored and the few wei left over go
to the largest remainders (ties: the smaller address), so the shares always add
up to the pool exactly and anyone recomputes the same split.
"""

from __future__ import annotations

from collections.abc import Mapping

BPS = 10_000


def share_of(amount: int, bps: int) -> int:
    """``amount * bps / 10,000``, floored, as the contracts compute it."""
    if not 0 <= bps <= BPS:
        raise ValueError(f"a share must be 0-10,000 basis points, got {bps}")
    return amount * bps // BPS


def split_pro_rata(pool: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``pool`` wei over accounts in proportion to ``weights`` (VP spent).

    Accounts with zero weight get nothing; if no account has weight the result is
    empty and the caller carries the pool over.
    """
    if pool < 0:
        raise ValueError("pool cannot be negative")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights cannot be negative")
    total = sum(weights.values())
    if pool == 0 or total == 0:
        return {}
    shares = {a: pool * w // total for a, w in weights.items() if w > 0}
    left = pool - sum(shares.values())
    by_remainder = sorted(shares, key=lambda a: (-(pool * weights[a] % total), a))
    for account in by_remainder[:left]:
        shares[account] += 1
    return shares


def accumulate(previous: Mapping[str, int], new: Mapping[str, int]) -> dict[str, int]:
    """Lifetime totals after adding this epoch's rewards (the cumulative Merkle leaves)."""
    totals = dict(previous)
    for account, amount in new.items():
        totals[account] = totals.get(account, 0) + amount
    return totals
