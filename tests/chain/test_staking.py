"""Staking: checkpoints per account, stake at a past block, minimum over a window."""

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture
def staker(system, funded):
    account = funded("staker")
    with boa.env.prank(system.operator):
        system.token.transfer(account, 10**24)
    with boa.env.prank(account):
        system.token.approve(system.staking.address, 2**256 - 1)
    return account


def _stake(system, account, amount):
    with boa.env.prank(account):
        system.staking.stake(amount)
    boa.env.time_travel(blocks=1)


def _unstake(system, account, amount):
    with boa.env.prank(account):
        system.staking.unstake(amount)
    boa.env.time_travel(blocks=1)


def test_stake_moves_tokens_and_records_history(system, staker):
    start = boa.env.evm.patch.block_number
    _stake(system, staker, 100)
    _stake(system, staker, 50)
    _unstake(system, staker, 120)
    assert system.staking.staked(staker) == 30
    assert system.token.balanceOf(system.staking.address) == 30
    assert [system.staking.stake_at(staker, start + i) for i in range(-1, 4)] == [
        0,
        100,
        150,
        30,
        30,
    ]
    assert system.staking.num_checkpoints(staker) == 3
    assert system.staking.checkpoint(staker, 1) == (start + 1, 150)


def test_min_stake_between_sees_a_mid_window_dip(system, staker):
    start = boa.env.evm.patch.block_number
    _stake(system, staker, 100)  # block start
    _unstake(system, staker, 60)  # start + 1 -> 40
    _stake(system, staker, 60)  # start + 2 -> 100
    assert system.staking.min_stake_between(staker, start, start) == 100
    assert system.staking.min_stake_between(staker, start, start + 2) == 40
    assert system.staking.min_stake_between(staker, start + 2, start + 3) == 100
    # A window that opens before the first stake has minimum zero.
    assert system.staking.min_stake_between(staker, start - 1, start + 3) == 0


def test_changes_in_one_block_keep_one_checkpoint(system, staker):
    with boa.env.prank(staker):
        system.staking.stake(10)
        system.staking.stake(5)
        system.staking.unstake(3)
    assert system.staking.num_checkpoints(staker) == 1
    assert system.staking.staked(staker) == 12


def test_cannot_unstake_more_than_staked(system, staker):
    _stake(system, staker, 10)
    with boa.env.prank(staker), boa.reverts("staking: amount exceeds stake"):
        system.staking.unstake(11)


def test_stake_needs_allowance_and_positive_amount(system, funded):
    poor = funded("poor")
    with boa.env.prank(poor), boa.reverts("staking: zero amount"):
        system.staking.stake(0)
    with boa.env.prank(poor), boa.reverts():
        system.staking.stake(1)


def test_future_blocks_and_empty_ranges_are_refused(system, staker):
    now = boa.env.evm.patch.block_number
    with boa.reverts("staking: future block"):
        system.staking.stake_at(staker, now + 1)
    with boa.reverts("staking: empty range"):
        system.staking.min_stake_between(staker, now, now - 1)


def test_batch_read_matches_single_reads(system, staker, funded):
    idle = funded("idle")
    start = boa.env.evm.patch.block_number
    _stake(system, staker, 100)
    _unstake(system, staker, 30)
    now = boa.env.evm.patch.block_number
    assert system.staking.min_stakes_between([staker, idle, staker], start, now) == [70, 0, 70]
    assert system.staking.min_stakes_between([], start, now) == []


def _naive_min(history: list[tuple[int, int]], from_block: int, to_block: int) -> int:
    """The stake at the end of every block in the window, minimised (history: the
    end-of-block amount at each block where it changed)."""

    def at(block: int) -> int:
        amount = 0
        for b, a in history:
            if b <= block:
                amount = a
        return amount

    return min(at(b) for b in range(from_block, to_block + 1))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(st.tuples(st.integers(0, 2), st.integers(-60, 80)), min_size=1, max_size=40),
    data=st.data(),
)
def test_min_over_any_window_matches_a_naive_scan(system, staker, changes, data):
    """The O(log n) structure (parents and jump pointers) against a direct scan, over
    random stake histories with several changes in some blocks."""
    with boa.env.anchor():
        start = boa.env.evm.patch.block_number
        history: list[tuple[int, int]] = []
        current = 0
        for gap, delta in changes:
            boa.env.time_travel(blocks=gap)
            with boa.env.prank(staker):
                if delta > 0:
                    system.staking.stake(delta)
                    current += delta
                elif 0 < -delta <= current:
                    system.staking.unstake(-delta)
                    current += delta
                else:
                    continue
            block = boa.env.evm.patch.block_number
            if history and history[-1][0] == block:
                history[-1] = (block, current)
            else:
                history.append((block, current))
        boa.env.time_travel(blocks=1)
        now = boa.env.evm.patch.block_number
        for _ in range(6):
            lo = data.draw(st.integers(start - 1, now))
            hi = data.draw(st.integers(lo, now))
            assert system.staking.min_stake_between(staker, lo, hi) == _naive_min(history, lo, hi)
        assert system.staking.staked(staker) == current


def test_thousands_of_checkpoints_cost_a_logarithmic_read(system, staker):
    """4,097 one-wei stakes, one a block, inside a window (the halting attack of issue
    11): the read still succeeds, and costs O(log n) storage reads."""
    start = boa.env.evm.patch.block_number
    _stake(system, staker, 10**18)
    for _ in range(4097):
        _stake(system, staker, 1)
    now = boa.env.evm.patch.block_number
    assert system.staking.num_checkpoints(staker) == 4098
    assert system.staking.min_stake_between(staker, start, now) == 10**18
    assert system.staking.min_stake_between(staker, start + 2000, now) == 10**18 + 2000
    assert system.staking.min_stakes_between([staker] * 3, start + 1, now) == [10**18 + 1] * 3
    gas = system.staking.min_stake_between(staker, start, now - 1000, gas=10**7)
    used = system.staking._computation.get_gas_used()
    assert gas == 10**18 and used < 150_000, used
