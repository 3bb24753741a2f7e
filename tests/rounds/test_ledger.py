"""The reward ledger read back from storage: cumulative totals and leaf indexes that
match what the pure rules (and so the public record's verifier) give, epoch by epoch."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tastemaker.core.merkle import RewardTree
from tastemaker.core.outcome import reward_epoch
from tastemaker.rounds.service import reward_ledger
from tastemaker.store.tables import Reward, RewardEpoch, Round


def _store_epoch(session, number: int, result, weights) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    session.add(
        Round(
            number=number,
            state="settled",
            chain_id=31337,
            verifying_contract="0x" + "00" * 20,
            opens_at=now,
            closes_at=now,
            rules={},
        )
    )
    session.flush()
    session.add(
        RewardEpoch(
            epoch=number,
            round=number,
            pool=result.distributed,
            distributed=result.distributed,
            root=result.root,
            total_cumulative=result.total,
            posted=True,
        )
    )
    session.flush()
    for account, amount in result.shares.items():
        session.add(
            Reward(
                epoch=number,
                account=account,
                vp_spent=weights[account],
                amount=amount,
                cumulative=result.cumulative[account],
            )
        )


def test_ledger_indexes_match_the_pure_rule_over_epochs(database) -> None:
    rnd = random.Random(11)
    population = ["0x" + rnd.randbytes(20).hex() for _ in range(30)]
    cumulative: dict[str, int] = {}
    indexes: dict[str, int] = {}
    for number in range(1, 6):
        voters = rnd.sample(population, rnd.randint(1, 10))
        weights = {v: rnd.randint(1, 100) for v in voters}
        result = reward_epoch(10**18, weights, cumulative, indexes)
        with database.unit_of_work() as session:
            _store_epoch(session, number, result, weights)
        with database.unit_of_work() as session:
            before = reward_ledger(session, before_epoch=number)
            after = reward_ledger(session)
        assert (before.cumulative, before.indexes) == (cumulative, indexes)
        assert (after.cumulative, after.indexes) == (result.cumulative, result.indexes)
        for account, index in indexes.items():
            assert after.indexes[account] == index  # never moves once given
        root = RewardTree.build(after.cumulative, after.indexes).root
        assert root == result.root
        cumulative, indexes = result.cumulative, result.indexes
    assert sorted(indexes.values()) == list(range(len(indexes)))
