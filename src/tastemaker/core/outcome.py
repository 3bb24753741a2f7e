"""What a closed round comes to: which votes count, the tally, and the reward epoch.

The round service and the public verifier both call these functions, the service
on its database and the verifier on an exported record, so a verifier that gets
the same answer has recomputed the round from public data alone.

Rules:
- Of a voter's votes on one work, only the one with the highest nonce counts.
- VP is fixed at close from the *minimum* stake over the round's blocks. A voter
  who spent more than that (they unstaked mid-round) has every vote scaled down by
  final_vp / spent, floored, so unstaking forfeits VP instead of keeping it.
- Voters' rewards are the voter pool split pro rata to effective VP spent, among
  voters whose stake earns rewards; cumulative totals become the Merkle leaves,
  each under the account's permanent leaf index (``core.merkle.assign_indexes``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeVar

from tastemaker.core.flip import Flip, votes_to_flip
from tastemaker.core.merkle import RewardTree, assign_indexes
from tastemaker.core.rewards import accumulate, split_pro_rata
from tastemaker.core.tally import CountedVote, TallyRow, rank_pool, winner_of_rows
from tastemaker.core.voting_power import Allowance


class BallotLike(Protocol):
    """What counting needs of a vote: a signed ``Vote`` or a row already checked."""

    @property
    def voter(self) -> str: ...
    @property
    def work(self) -> bytes: ...
    @property
    def direction(self) -> int: ...
    @property
    def amount(self) -> int: ...
    @property
    def nonce(self) -> int: ...


class StoredVote(NamedTuple):
    """A vote read back from storage, where it was verified on the way in."""

    voter: str
    work: bytes
    direction: int
    amount: int
    nonce: int


V = TypeVar("V", bound=BallotLike)


def latest_votes(votes: Iterable[V]) -> list[V]:
    """Each voter's highest-nonce vote on each work, in a stable order."""
    latest: dict[tuple[str, bytes], V] = {}
    for vote in votes:
        key = (vote.voter, vote.work)
        if key not in latest or vote.nonce > latest[key].nonce:
            latest[key] = vote
    return sorted(latest.values(), key=lambda v: (v.voter, v.work))


def effective_votes(votes: Sequence[BallotLike], final_vp: Mapping[str, int]) -> list[CountedVote]:
    """Votes with amounts cut down where the voter spent more than their final VP."""
    spent: dict[str, int] = defaultdict(int)
    for vote in votes:
        spent[vote.voter] += vote.amount
    counted = []
    for vote in votes:
        budget, used = final_vp.get(vote.voter, 0), spent[vote.voter]
        amount = vote.amount if used <= budget else vote.amount * budget // used
        if amount > 0:
            counted.append(CountedVote(vote.voter, vote.work, vote.direction, amount))
    return counted


@dataclass(frozen=True)
class RoundOutcome:
    tally: list[TallyRow]
    spent: dict[str, int]  # effective VP spent per voter
    reward_weights: dict[str, int]  # the part of ``spent`` that earns rewards
    counted: list[CountedVote] = field(default_factory=list)
    pool: list[bytes] = field(default_factory=list)
    impressions: dict[bytes, int] = field(default_factory=dict)
    rules: dict = field(default_factory=dict)

    @property
    def winner(self) -> bytes | None:
        """The top work, if the round's mint rule lets it win (``core.tally``)."""
        return winner_of_rows(self.tally, self.rules)

    def votes_to_flip(self) -> Flip | None:
        """The fewest counted votes found whose removal changes the winner (core.flip)."""
        return votes_to_flip(self.pool, self.counted, self.impressions, self.rules)


def round_outcome(
    pool: Sequence[bytes],
    votes: Iterable[BallotLike],
    impressions: Mapping[bytes, int],
    allowances: Mapping[str, Allowance],
    prior_exposure: int = 5,
    *,
    rules: Mapping | None = None,
) -> RoundOutcome:
    """The round counted by the tally rule ``rules`` names (``core.tally.rank_pool``);
    without ``rules``, by the exposure rule with ``prior_exposure`` (older rounds)."""
    if rules is None:
        rules = {"tally": "exposure", "prior_exposure": prior_exposure}
    counted = effective_votes(latest_votes(votes), {a: v.vp for a, v in allowances.items()})
    in_pool = set(pool)
    counted = [v for v in counted if v.work in in_pool]
    spent: dict[str, int] = defaultdict(int)
    for vote in counted:
        spent[vote.voter] += vote.amount
    weights = {a: s for a, s in spent.items() if allowances[a].earns_rewards}
    return RoundOutcome(
        rank_pool(pool, counted, impressions, rules),
        dict(spent),
        weights,
        counted,
        list(pool),
        dict(impressions),
        dict(rules),
    )


@dataclass(frozen=True)
class RewardEpochResult:
    shares: dict[str, int]
    cumulative: dict[str, int]
    indexes: dict[str, int]  # every account's leaf index, old ones unchanged
    distributed: int
    carried: int
    root: bytes

    @property
    def total(self) -> int:
        return sum(self.cumulative.values())


def reward_epoch(
    voter_pool: int,
    weights: Mapping[str, int],
    previous_cumulative: Mapping[str, int],
    previous_indexes: Mapping[str, int],
) -> RewardEpochResult:
    """Split ``voter_pool`` wei and fold it into lifetime totals; nothing eligible -> carry.

    Accounts new to the tree get the next leaf indexes after ``previous_indexes``.
    """
    shares = split_pro_rata(voter_pool, weights)
    cumulative = accumulate(previous_cumulative, shares)
    indexes = assign_indexes(previous_indexes, cumulative)
    distributed = sum(shares.values())
    root = RewardTree.build(cumulative, indexes).root if cumulative else b"\0" * 32
    return RewardEpochResult(
        shares, cumulative, indexes, distributed, voter_pool - distributed, root
    )
