"""Voting power (VP) from stake.

VP for a round is a curve of the member's *minimum* stake between the round's
opening and closing blocks, so unstaking mid-round forfeits it. Amounts are
integers in the token's smallest unit; the curves keep 1 whole token -> 1 whole
token of VP so settings are comparable across curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Curve = Literal["linear", "sqrt", "log"]
CURVES: tuple[Curve, ...] = ("linear", "sqrt", "log")
TOKEN_UNIT = 10**18


def curve_vp(stake: int, curve: Curve = "linear", unit: int = TOKEN_UNIT) -> int:
    """VP for ``stake`` base units on ``curve``.

    ``linear`` is the default (Botto's rule): sub-linear curves reward splitting
    stake across many accounts, which a Sybil farmer can always do.
    """
    if stake < 0:
        raise ValueError(f"stake cannot be negative: {stake}")
    if curve == "linear":
        return stake
    if curve == "sqrt":
        return math.isqrt(stake * unit)  # sqrt(stake / unit) tokens, exactly
    if curve == "log":
        return int(unit * math.log2(1 + stake / unit))
    raise ValueError(f"unknown VP curve {curve!r}; choose one of {', '.join(CURVES)}")


@dataclass(frozen=True)
class VotingRules:
    """The deployment's VP settings."""

    curve: Curve = "linear"
    baseline_vp: int = 0  # VP for any signed-in wallet: counts for taste and tally only
    min_stake_to_earn: int = TOKEN_UNIT  # below this a voter earns no rewards


@dataclass(frozen=True)
class Allowance:
    vp: int
    earns_rewards: bool


def allowance(min_stake: int, rules: VotingRules) -> Allowance:
    """A member's VP budget for one round and whether their votes earn rewards."""
    staked_vp = curve_vp(min_stake, rules.curve)
    return Allowance(
        vp=max(staked_vp, rules.baseline_vp),
        earns_rewards=min_stake >= rules.min_stake_to_earn and staked_vp > 0,
    )
