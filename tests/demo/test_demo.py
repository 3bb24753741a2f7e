"""The demo end to end, small: stake, sign, vote, close, auction, settle, claim, verify."""

import pytest

from tastemaker.demo.run import DEMO_ROUND, run_demo
from tastemaker.rounds.curation import RandomCurator

pytestmark = pytest.mark.slow


def test_two_weeks_verify_and_every_claim_is_paid_to_the_wei(tmp_path) -> None:
    # sqrt VP: votes are sized from VP, which a bent curve makes smaller than stake.
    settings = DEMO_ROUND.model_copy(
        update={"candidates": 80, "new_works": 30, "pool_size": 40, "image_size": 64,
                "vp_curve": "sqrt"}
    )  # fmt: skip
    result = run_demo(
        tmp_path, weeks=2, n_members=8, curator=RandomCurator(), round_settings=settings,
        say=lambda _: None,
    )  # fmt: skip
    assert len(result.weeks) == 2
    for week in result.weeks:
        assert week.verified, f"round {week.round} does not verify"
        assert week.winner is not None and week.votes > 0
        assert week.refused <= week.votes // 20, "members should vote within their VP"
    assert result.rewards and result.claimed == result.rewards
