from eth_account import Account

from tastemaker.core.ballots import Vote
from tastemaker.core.merkle import RewardTree
from tastemaker.core.outcome import latest_votes, reward_epoch, round_outcome
from tastemaker.core.voting_power import Allowance

A, B, C = (Account.from_key("0x" + f"{i:02x}" * 32).address for i in (1, 2, 3))
W = [bytes([i]) * 32 for i in range(1, 4)]


def _v(voter, work, direction, amount, nonce) -> Vote:
    return Vote(voter, 1, work, direction, amount, nonce)


def test_only_the_latest_vote_on_a_work_counts() -> None:
    votes = [_v(A, W[0], 1, 10, 1), _v(A, W[0], -1, 5, 3), _v(A, W[0], 1, 7, 2)]
    assert latest_votes(votes) == [votes[1]]


def test_unstaking_mid_round_scales_votes_down() -> None:
    votes = [_v(A, W[0], 1, 60, 1), _v(A, W[1], 1, 40, 2), _v(B, W[1], 1, 30, 1)]
    allowances = {A: Allowance(50, True), B: Allowance(100, False)}
    outcome = round_outcome(W, votes, {W[0]: 10, W[1]: 10}, allowances, prior_exposure=5)
    assert outcome.spent == {A: 30 + 20, B: 30}
    assert outcome.reward_weights == {A: 50}  # B's stake is below the earning minimum
    assert outcome.winner == W[1]  # 20 + 30 against 30


def test_votes_outside_the_pool_and_no_support_give_no_winner() -> None:
    votes = [_v(A, b"\x09" * 32, 1, 10, 1), _v(B, W[0], -1, 10, 1)]
    allowances = {A: Allowance(10, True), B: Allowance(10, True)}
    outcome = round_outcome(W, votes, {}, allowances, prior_exposure=5)
    assert outcome.winner is None and outcome.spent == {B: 10}


def test_reward_epoch_is_cumulative_and_exact() -> None:
    first = reward_epoch(10**18, {A: 1, B: 2}, {}, {})
    assert first.distributed == 10**18 and first.carried == 0
    second = reward_epoch(5, {B: 1, C: 1}, first.cumulative, first.indexes)
    assert second.cumulative[A] == first.cumulative[A]
    assert second.cumulative[B] == first.cumulative[B] + second.shares[B]
    assert second.total == 10**18 + 5
    assert second.root == RewardTree.build(second.cumulative, second.indexes).root
    nobody = reward_epoch(7, {}, second.cumulative, second.indexes)
    assert nobody.carried == 7 and nobody.root == second.root


def test_reward_epoch_keeps_leaf_indexes_and_appends_new_accounts() -> None:
    first = reward_epoch(10**18, {B: 1, A: 2}, {}, {})
    assert first.indexes == {a: i for i, a in enumerate(sorted([A, B], key=str.lower))}
    second = reward_epoch(5, {C: 1, A: 1}, first.cumulative, first.indexes)
    assert second.indexes == first.indexes | {C: 2}
