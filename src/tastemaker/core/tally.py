"""The tally: rank a round's pool. Two rules, named in each round's frozen rules.

``member-bias`` (the default since decision 0030; ``core.estimate``): a work's score
is its effect in an additive model of every counted vote, ``vote ~ a[member] +
b[work]``: its approval corrected for the leniency of whoever voted on it, which is
the model's estimate of its net approval had every member seen it.

``exposure`` (rounds recorded before 0030): a work's score is its net VP (up minus
down) per exposure, shrunk toward zero by a prior number of exposures::

    score = (up_vp - down_vp) / (exposure + prior_exposure)
    exposure = max(impressions, number of voters)

A work that was shown more collects more votes; dividing by exposure removes
that "lucky to be shown" advantage, and the prior keeps a work seen by one
enthusiastic voter from winning on a single vote. Scores are exact fractions, so
any verifier gets the same ranking. Ties go to the larger raw net VP, then to the
smaller work hash. Raw net VP (Botto's rule) is reported beside the score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from tastemaker.core.estimate import SCALE, BiasModel, fit_bias_model

RULES = ("member-bias", "exposure")
# When the top-ranked work is minted (decision 0032): "net-vp", if its net VP is
# positive (every record before 0032); "up-vp", if anyone voted it up, as Botto mints
# its top work: a picky community votes most works down, even the one it likes best.
MINT_RULES = ("net-vp", "up-vp")


@dataclass(frozen=True)
class CountedVote:
    """A vote as the tally sees it: the latest one of its voter on its work."""

    voter: str
    work: bytes
    direction: int
    amount: int


@dataclass(frozen=True)
class TallyRow:
    rank: int
    work: bytes
    score: Fraction
    net_vp: int
    up_vp: int
    down_vp: int
    voters: int
    impressions: int
    raw_rank: int  # the rank by raw net VP alone

    def to_json(self) -> dict:
        return {
            "rank": self.rank,
            "work": "0x" + self.work.hex(),
            "score": f"{self.score.numerator}/{self.score.denominator}",
            "score_float": float(self.score),
            "net_vp": str(self.net_vp),
            "up_vp": str(self.up_vp),
            "down_vp": str(self.down_vp),
            "voters": self.voters,
            "impressions": self.impressions,
            "raw_rank": self.raw_rank,
        }


def rule_of(rules: Mapping) -> str:
    """The tally rule a round's frozen rules name (records before 0030 name none)."""
    rule = rules.get("tally", "exposure")
    if rule not in RULES:
        raise ValueError(f"unknown tally rule {rule!r}")
    return rule


def mint_rule_of(rules: Mapping) -> str:
    """When a round's top work is minted (records before decision 0032 name none)."""
    rule = rules.get("mint_if", "net-vp")
    if rule not in MINT_RULES:
        raise ValueError(f"unknown mint rule {rule!r}")
    return rule


def winner_of_rows(rows: Sequence[TallyRow], rules: Mapping) -> bytes | None:
    """The round's winner: the top-ranked work, if the round's mint rule lets it win."""
    if not rows:
        return None
    top = rows[0]
    wins = top.up_vp > 0 if mint_rule_of(rules) == "up-vp" else top.net_vp > 0
    return top.work if wins else None


def rank_pool(
    pool: Sequence[bytes],
    votes: Sequence[CountedVote],
    impressions: Mapping[bytes, int],
    rules: Mapping,
) -> list[TallyRow]:
    """The pool ranked by the rule ``rules`` name, with its parameters from ``rules``."""
    if rule_of(rules) == "member-bias":
        return bias_tally(pool, votes, impressions, BiasModel.from_json(rules))
    return tally(pool, votes, impressions, int(rules.get("prior_exposure", 5)))


def bias_tally(
    pool: Sequence[bytes],
    votes: Sequence[CountedVote],
    impressions: Mapping[bytes, int],
    model: BiasModel,
) -> list[TallyRow]:
    """Every work of the pool ranked by its member-bias effect (``core.estimate``)."""
    effect, _ = fit_bias_model(
        pool, ((v.voter, v.work, v.direction, v.amount) for v in votes), model
    )
    return _rows(pool, votes, impressions, lambda w: Fraction(effect[w], SCALE))


def tally(
    pool: Sequence[bytes],
    votes: Iterable[CountedVote],
    impressions: Mapping[bytes, int],
    prior_exposure: int = 5,
) -> list[TallyRow]:
    """Every work of the pool ranked, best first; votes for works outside it are ignored."""
    if prior_exposure < 1:
        raise ValueError("prior_exposure must be at least 1")
    votes = list(votes)
    voters: dict[bytes, set[str]] = defaultdict(set)
    net: dict[bytes, int] = defaultdict(int)
    for vote in votes:
        voters[vote.work].add(vote.voter)
        net[vote.work] += vote.amount if vote.direction > 0 else -vote.amount

    def score(work: bytes) -> Fraction:
        exposure = max(impressions.get(work, 0), len(voters[work]))
        return Fraction(net[work], exposure + prior_exposure)

    return _rows(pool, votes, impressions, score)


def _rows(
    pool: Sequence[bytes],
    votes: Iterable[CountedVote],
    impressions: Mapping[bytes, int],
    score_of: Callable[[bytes], Fraction],
) -> list[TallyRow]:
    in_pool = set(pool)
    up: dict[bytes, int] = defaultdict(int)
    down: dict[bytes, int] = defaultdict(int)
    voters: dict[bytes, set[str]] = defaultdict(set)
    for vote in votes:
        if vote.work not in in_pool:
            continue
        (up if vote.direction > 0 else down)[vote.work] += vote.amount
        voters[vote.work].add(vote.voter)

    scores = {work: score_of(work) for work in in_pool}

    def score(work: bytes) -> Fraction:
        return scores[work]

    def net(work: bytes) -> int:
        return up[work] - down[work]

    works = sorted(in_pool)  # a fixed order first, so ties break by work hash
    raw_order = sorted(works, key=net, reverse=True)
    raw_rank = {work: i + 1 for i, work in enumerate(raw_order)}
    ranked = sorted(works, key=lambda w: (score(w), net(w)), reverse=True)
    # sorted() is stable, but reverse=True keeps equal keys in their original order,
    # so equal (score, net) works stay in ascending hash order.
    return [
        TallyRow(
            rank=i + 1,
            work=work,
            score=score(work),
            net_vp=net(work),
            up_vp=up[work],
            down_vp=down[work],
            voters=len(voters[work]),
            impressions=impressions.get(work, 0),
            raw_rank=raw_rank[work],
        )
        for i, work in enumerate(ranked)
    ]
