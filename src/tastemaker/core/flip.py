"""Votes to flip: how close a round's vote was.

The fewest counted votes whose removal changes the winner (to another work, or to no
winner), as a greedy upper bound with its certificate. For each of the ``CHALLENGERS``
works ranked next (and for "no winner"), the removable votes are the winner's up
votes and the challenger's down votes, largest amount first (then voter, then work);
bisection finds the shortest prefix of that list whose removal changes the winner,
re-running the round's own tally rule each time. The smallest over the challengers
is published with the votes it removes, so anyone can check that removing them
flips the round; a cleverer choice could need fewer, never more (the number is an
upper bound on the exact minimum, and is exact whenever it is 1).

Bisection assumes removing more of the list never restores the winner; where that
fails the prefix found still flips the round (it is re-checked), it may just not be
the shortest one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tastemaker.core.tally import CountedVote, rank_pool, winner_of_rows

CHALLENGERS = 5
METHOD = "greedy-bisection/1"


@dataclass(frozen=True)
class Flip:
    count: int
    removed: list[tuple[str, bytes]]  # (voter, work) of each removed counted vote
    new_winner: bytes | None

    def to_json(self) -> dict:
        return {
            "method": METHOD,
            "count": self.count,
            "removed": [[voter, "0x" + work.hex()] for voter, work in self.removed],
            "new_winner": "0x" + self.new_winner.hex() if self.new_winner else None,
        }


def winner_of(
    pool: Sequence[bytes],
    votes: Sequence[CountedVote],
    impressions: Mapping[bytes, int],
    rules: Mapping,
) -> bytes | None:
    return winner_of_rows(rank_pool(pool, votes, impressions, rules), rules)


def votes_to_flip(
    pool: Sequence[bytes],
    votes: Sequence[CountedVote],
    impressions: Mapping[bytes, int],
    rules: Mapping,
) -> Flip | None:
    """The flip with the fewest removals found; None when the round has no winner."""
    rows = rank_pool(pool, votes, impressions, rules)
    winner = winner_of_rows(rows, rules)
    if winner is None:
        return None
    challengers: list[bytes | None] = [r.work for r in rows[1 : 1 + CHALLENGERS]] + [None]
    best: Flip | None = None

    def size(v: CountedVote) -> tuple:
        return (-v.amount, v.voter, v.work)

    backing = sorted((v for v in votes if v.work == winner and v.direction > 0), key=size)
    for challenger in challengers:
        against = [v for v in votes if challenger and v.work == challenger and v.direction < 0]
        order = sorted(backing + against, key=size)

        def after(k: int, order: list[CountedVote] = order) -> bytes | None:
            gone = {(v.voter, v.work) for v in order[:k]}
            return winner_of(
                pool, [v for v in votes if (v.voter, v.work) not in gone], impressions, rules
            )

        lo, hi = 0, len(order)  # removing lo does not flip, removing hi does
        if best is not None:  # only a shorter flip is worth finding
            hi = min(hi, best.count - 1)
            if hi == 0 or after(hi) == winner:
                continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if after(mid) == winner:
                lo = mid
            else:
                hi = mid
        new = after(hi)
        if new != winner and (best is None or hi < best.count):
            best = Flip(hi, [(v.voter, v.work) for v in order[:hi]], new)
    return best
