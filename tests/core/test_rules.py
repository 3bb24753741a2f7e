from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastemaker.core.rewards import accumulate, share_of, split_pro_rata
from tastemaker.core.tally import CountedVote, tally
from tastemaker.core.voting_power import TOKEN_UNIT, VotingRules, allowance, curve_vp


def test_curves_agree_at_one_token_and_bend_below_linear_above_it() -> None:
    for curve in ("linear", "sqrt", "log"):
        assert curve_vp(TOKEN_UNIT, curve) == TOKEN_UNIT
        assert curve_vp(0, curve) == 0
    assert curve_vp(100 * TOKEN_UNIT, "sqrt") == 10 * TOKEN_UNIT
    assert curve_vp(100 * TOKEN_UNIT, "log") < curve_vp(100 * TOKEN_UNIT, "sqrt")
    with pytest.raises(ValueError, match="unknown VP curve"):
        curve_vp(1, "cubic")  # type: ignore[arg-type]


def test_allowance_baseline_counts_but_does_not_earn() -> None:
    rules = VotingRules(baseline_vp=5, min_stake_to_earn=TOKEN_UNIT)
    assert allowance(0, rules).vp == 5 and not allowance(0, rules).earns_rewards
    assert allowance(TOKEN_UNIT // 2, rules).earns_rewards is False
    assert allowance(3 * TOKEN_UNIT, rules) == type(allowance(0, rules))(3 * TOKEN_UNIT, True)


W = [bytes([i]) * 32 for i in range(4)]


def test_exposure_correction_beats_lucky_exposure() -> None:
    votes = [CountedVote(f"v{i}", W[0], 1, 10) for i in range(10)]  # shown 100 times
    votes += [CountedVote(f"u{i}", W[1], 1, 10) for i in range(6)]  # shown 10 times
    rows = tally(W[:2], votes, {W[0]: 100, W[1]: 10}, prior_exposure=5)
    assert rows[0].work == W[1] and rows[0].score == Fraction(60, 15)
    assert rows[0].raw_rank == 2 and rows[1].raw_rank == 1  # Botto's rule would pick W[0]


def test_prior_keeps_a_single_vote_from_winning() -> None:
    votes = [CountedVote("whale", W[0], 1, 30)]
    votes += [CountedVote(f"v{i}", W[1], 1, 10) for i in range(20)]
    rows = tally(W[:2], votes, {W[0]: 1, W[1]: 30}, prior_exposure=5)
    assert rows[0].work == W[1]


def test_down_votes_ties_and_unvoted_works() -> None:
    votes = [CountedVote("a", W[2], -1, 7), CountedVote("b", W[3], 1, 1)]
    votes.append(CountedVote("c", b"\xff" * 32, 1, 99))  # not in the pool: ignored
    rows = tally(W, votes, {})
    assert [r.work for r in rows] == [W[3], W[0], W[1], W[2]]  # ties by hash
    assert rows[-1].net_vp == -7 and rows[-1].voters == 1
    assert rows[1].to_json()["score"] == "0/1"


def test_split_is_exact_and_pro_rata() -> None:
    shares = split_pro_rata(100, {"a": 1, "b": 1, "c": 1})
    assert sum(shares.values()) == 100 and sorted(shares.values()) == [33, 33, 34]
    assert shares["a"] == 34  # the smaller address takes the tied remainder
    assert split_pro_rata(10**18, {"a": 3, "b": 1}) == {"a": 75 * 10**16, "b": 25 * 10**16}
    assert split_pro_rata(5, {"a": 0}) == {}
    assert share_of(10**18, 4_500) == 45 * 10**16


@given(
    pool=st.integers(0, 10**24),
    weights=st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 10**24), max_size=30),
)
def test_split_always_adds_up(pool: int, weights: dict[str, int]) -> None:
    shares = split_pro_rata(pool, weights)
    if pool and sum(weights.values()):
        assert sum(shares.values()) == pool
        total = sum(weights.values())
        for account, share in shares.items():
            assert abs(share * total - pool * weights[account]) <= total  # within 1 wei
    else:
        assert shares == {}


def test_accumulate_keeps_lifetime_totals() -> None:
    assert accumulate({"a": 5, "b": 1}, {"a": 2, "c": 3}) == {"a": 7, "b": 1, "c": 3}
