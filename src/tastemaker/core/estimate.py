"""The member-bias tally: each work's approval as if every member had seen it.

Exposure is sparse (a member sees a few percent of the pool) and members differ in
how easily they approve. Whether a work's few votes came from strict or lenient
members then decides more than the work does. This rule fits an additive model of
every counted vote and ranks works by their own effect::

    vote (+1 / -1)  ~  a[member] + b[work]

``a`` is a member's leniency, ``b`` the work's approval over and above the leniency
of whoever happened to vote on it; the model's prediction for a member who did not
see a work is ``a[member] + b[work]``, so ranking by ``b`` ranks works by their
predicted net approval over all members. Both are ridge-shrunk toward zero:

    a[m] = sum_v amount * (y - b[w]) / (spent[m] + member_prior * spent[m] / votes[m])
    b[w] = sum_v amount * (y - a[m]) / (vp_on[w] + work_prior * spent_total / pool_size)

``member_prior`` is in votes of the member's own average size (a wallet that casts
one vote has a third of it read as leniency when the prior is 2); ``work_prior`` is
in units of the round's average VP per work, a quantity only more stake can move,
so splitting stake over wallets does not weaken the shrinkage. Weights are VP (the
``amount`` of each counted vote), so the rule stays linear in stake: ten wallets
holding a member's stake weigh what the one wallet did.

The fit alternates the two updates a fixed number of times from ``b = 0``, in
integers: every value is a fixed-point number with ``SCALE`` units per 1 and every
division floors. Python integers do not round differently on other machines, so
``tastemaker verify`` recomputes every score bit for bit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

SCALE = 10**12  # fixed-point units per 1


@dataclass(frozen=True)
class BiasModel:
    member_prior: Fraction = Fraction(2)  # in votes of the member's own average size
    work_prior: Fraction = Fraction(1, 4)  # in the round's average VP per pool work
    iterations: int = 20

    def __post_init__(self) -> None:
        if self.member_prior < 0 or self.work_prior <= 0:
            raise ValueError("member_prior must be >= 0 and work_prior > 0")
        if not 1 <= self.iterations <= 1000:
            raise ValueError("iterations must lie between 1 and 1000")

    def to_json(self) -> dict:
        return {
            "member_prior": f"{self.member_prior.numerator}/{self.member_prior.denominator}",
            "work_prior": f"{self.work_prior.numerator}/{self.work_prior.denominator}",
            "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> BiasModel:
        return cls(
            Fraction(str(data["member_prior"])),
            Fraction(str(data["work_prior"])),
            int(data["iterations"]),
        )


def fit_bias_model(
    pool: Sequence[bytes],
    votes: Iterable[tuple[str, bytes, int, int]],
    model: BiasModel,
) -> tuple[dict[bytes, int], dict[str, int]]:
    """(b, a): each pool work's effect and each voter's leniency, in ``SCALE`` units.

    ``votes`` are (voter, work, direction, amount) with positive integer amounts,
    one per voter and work (the counted votes); votes outside the pool are ignored.
    """
    in_pool = set(pool)
    rows = sorted(
        (voter, work, 1 if direction > 0 else -1, int(amount))
        for voter, work, direction, amount in votes
        if work in in_pool and amount > 0
    )
    b: dict[bytes, int] = dict.fromkeys(pool, 0)
    a: dict[str, int] = {}
    if not rows:
        return b, a
    spent: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    on_work: dict[bytes, int] = defaultdict(int)
    for voter, work, _, amount in rows:
        spent[voter] += amount
        count[voter] += 1
        on_work[work] += amount
    total = sum(spent.values())
    mp, wp = model.member_prior, model.work_prior
    # Denominators as integers: spent * (1 + mp / n) and vp_on + wp * total / |pool|.
    a_den = {
        m: spent[m] * (count[m] * mp.denominator + mp.numerator) for m in spent
    }  # / (count * mp.denominator)
    a_mul = {m: count[m] * mp.denominator for m in spent}
    work_prior_vp = wp.numerator * total  # / (wp.denominator * |pool|)
    prior_den = wp.denominator * len(pool)
    b_den = {w: on_work[w] * prior_den + work_prior_vp for w in on_work}
    by_member: dict[str, list[tuple[bytes, int, int]]] = defaultdict(list)
    by_work: dict[bytes, list[tuple[str, int, int]]] = defaultdict(list)
    for voter, work, y, amount in rows:
        by_member[voter].append((work, y * SCALE, amount))
        by_work[work].append((voter, y * SCALE, amount))
    for _ in range(model.iterations):
        a = {
            m: sum(amount * (y - b[w]) for w, y, amount in cast) * a_mul[m] // a_den[m]
            for m, cast in by_member.items()
        }
        b = dict.fromkeys(pool, 0) | {
            w: sum(amount * (y - a[m]) for m, y, amount in cast) * prior_den // b_den[w]
            for w, cast in by_work.items()
        }
    return b, a
