"""The demo's round is sized to its community (decision 0032)."""

from tastemaker.demo.run import DEMO_ROUND, demo_round


def test_the_demo_pool_follows_the_number_of_members() -> None:
    small, large = demo_round(50, 24), demo_round(200, 24)
    assert (small.pool_size, small.new_works) == (75, 30)
    assert (large.pool_size, large.new_works) == (300, 120)
    assert small.candidates == DEMO_ROUND.candidates  # only the pool changes
