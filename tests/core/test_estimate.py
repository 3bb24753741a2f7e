"""The member-bias tally (core.estimate) and votes to flip (core.flip)."""

from fractions import Fraction

import pytest

from tastemaker.core.estimate import SCALE, BiasModel, fit_bias_model
from tastemaker.core.flip import votes_to_flip, winner_of
from tastemaker.core.tally import CountedVote, bias_tally, rank_pool, rule_of

W = [bytes([i]) * 32 for i in range(1, 5)]
RULES = {"tally": "member-bias"} | BiasModel().to_json()


def _votes(plan) -> list[CountedVote]:
    return [CountedVote(voter, W[w], d, amount) for voter, w, d, amount in plan]


def test_a_strict_members_up_vote_counts_more_than_a_lenient_ones() -> None:
    # W0 and W1 each get one up vote of the same VP. W0's comes from "strict", who voted
    # everything else down; W1's from "easy", who votes everything up. Raw net VP ties
    # them; the model reads easy's up vote as leniency and ranks W0 first.
    plan = [("strict", 0, 1, 10), ("easy", 1, 1, 10)]
    plan += [("strict", w, -1, 10) for w in (2, 3)] + [("easy", w, 1, 10) for w in (2, 3)]
    rows = bias_tally(W, _votes(plan), {}, BiasModel())
    score = {r.work: r.score for r in rows}
    assert score[W[0]] > score[W[1]] > 0


def test_the_fit_is_integer_arithmetic_and_repeatable() -> None:
    votes = [(f"m{i}", W[i % 4], 1 if i % 3 else -1, 10**18 + i) for i in range(40)]
    b1, a1 = fit_bias_model(W, votes, BiasModel())
    b2, a2 = fit_bias_model(W, list(reversed(votes)), BiasModel())
    assert (b1, a1) == (b2, a2)  # the order votes arrive in does not matter
    assert all(isinstance(v, int) and abs(v) <= 2 * SCALE for v in (*b1.values(), *a1.values()))


def test_splitting_stake_over_wallets_weighs_the_same() -> None:
    honest = [("h1", 0, 1, 30), ("h2", 0, 1, 30), ("h3", 1, 1, 30), ("h4", 1, -1, 30)]
    honest += [("h1", 2, -1, 30), ("h3", 3, 1, 30)]
    one = _votes([*honest, ("whale", 1, 1, 100)])
    ten = _votes(honest + [(f"sybil{k}", 1, 1, 10) for k in range(10)])
    s1 = {r.work: r.score for r in bias_tally(W, one, {}, BiasModel())}
    s10 = {r.work: r.score for r in bias_tally(W, ten, {}, BiasModel())}
    assert s10[W[1]] <= s1[W[1]]


def test_rules_name_the_rule_and_older_rounds_keep_theirs() -> None:
    assert rule_of({"prior_exposure": 5}) == "exposure"
    assert rule_of(RULES) == "member-bias"
    with pytest.raises(ValueError, match="unknown tally rule"):
        rule_of({"tally": "coin-flip"})
    assert BiasModel.from_json(BiasModel(Fraction(3), Fraction(1, 3), 7).to_json()) == BiasModel(
        Fraction(3), Fraction(1, 3), 7
    )
    with pytest.raises(ValueError):
        BiasModel(work_prior=Fraction(0))


def test_votes_to_flip_is_a_checked_upper_bound() -> None:
    # W0 leads on three up votes, W1 follows on two: taking away W0's two biggest
    # backers (or fewer) changes the winner.
    plan = [("a", 0, 1, 50), ("b", 0, 1, 40), ("c", 0, 1, 10), ("d", 1, 1, 45), ("e", 1, 1, 45)]
    plan += [("a", 2, -1, 50), ("d", 3, -1, 45)]
    votes = _votes(plan)
    assert winner_of(W, votes, {}, RULES) == W[0]
    flip = votes_to_flip(W, votes, {}, RULES)
    assert flip is not None and 1 <= flip.count <= 3
    gone = set(flip.removed)
    rest = [v for v in votes if (v.voter, v.work) not in gone]
    assert winner_of(W, rest, {}, RULES) == flip.new_winner != W[0]
    assert flip.to_json()["count"] == flip.count
    # Removing fewer than the bound along the same order does not flip it.
    order_prefix = set(flip.removed[: flip.count - 1])
    fewer = [v for v in votes if (v.voter, v.work) not in order_prefix]
    assert winner_of(W, fewer, {}, RULES) == W[0]


def test_no_winner_no_flip() -> None:
    votes = _votes([("a", 0, -1, 5)])
    assert votes_to_flip(W, votes, {}, RULES) is None
    assert winner_of(W, votes, {}, RULES | {"mint_if": "up-vp"}) is None  # nobody voted up
    assert rank_pool(W, votes, {}, RULES)[0].net_vp <= 0


def test_a_picky_community_still_mints_the_work_it_likes_best() -> None:
    # Every member votes most works down; W0 gets 2 of 5 up, the others 0 or 1 of 5.
    # No work has positive net VP, so the old rule (and records without mint_if) mint
    # nothing; "up-vp" mints the top-ranked work, W0.
    plan = [(f"m{i}", 0, 1 if i < 2 else -1, 10) for i in range(5)]
    plan += [(f"m{i}", w, 1 if i == w else -1, 10) for w in (1, 2, 3) for i in range(5)]
    votes = _votes(plan)
    assert all(r.net_vp < 0 for r in rank_pool(W, votes, {}, RULES))
    assert winner_of(W, votes, {}, RULES) is None  # no mint_if: net VP, as before 0032
    scored = RULES | {"mint_if": "up-vp"}
    assert winner_of(W, votes, {}, scored) == W[0]
    flip = votes_to_flip(W, votes, {}, scored)
    assert flip is not None and flip.new_winner != W[0]
    with pytest.raises(ValueError, match="unknown mint rule"):
        winner_of(W, votes, {}, RULES | {"mint_if": "always"})


def test_new_rounds_freeze_the_score_mint_rule() -> None:
    from tastemaker.rounds.settings import RoundSettings

    assert RoundSettings().rules_json()["mint_if"] == "up-vp"
    assert "mint_if" not in RoundSettings(tally="exposure").rules_json()
