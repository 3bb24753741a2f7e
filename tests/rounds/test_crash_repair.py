"""When the chain lacks what the database records (its state file restored from an
older copy), a step never builds on it: it redoes what is safe to redo, or stops with
one line naming the repair."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.settings import ChainSettings
from tastemaker.core.audit import verify_record
from tastemaker.rounds import states
from tastemaker.rounds.record import export_round
from tastemaker.rounds.service import (
    RoundError,
    claim_data,
    close_round,
    open_round,
    settle_round,
)
from tastemaker.store.tables import Round
from tests.rounds.scenario import BIDDER, ETHER, T0, after_voting, build, vote_on_pool
from tests.rounds.test_crash import ANVIL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ANVIL is None, reason="anvil is not installed (make install)"),
]


@pytest.fixture
def scenario(tmp_path):
    built = build(tmp_path / "home")
    yield built
    built.ctx.db.dispose()
    built.ctx.chain.close()


def _snapshot(scenario, name: str) -> Path:
    scenario.chain.persist()
    copy = scenario.ctx.home / name
    shutil.copy(scenario.chain.node.state_file, copy)
    return copy


def _restore(scenario, copy: Path) -> None:
    """Stop the node, put an older state file in place, start the node again."""
    scenario.ctx.chain.close()
    shutil.copy(copy, scenario.ctx.chain.node.state_file)
    scenario.ctx.chain = ChainClient.connect(ChainSettings(home=scenario.ctx.home))


def _token(scenario, number: int) -> int:
    with scenario.ctx.db.unit_of_work() as session:
        return session.get(Round, number).token_id


def _claims_pay_and_record_verifies(scenario, number: int) -> None:
    ctx, chain = scenario.ctx, scenario.chain
    for i in (1, 2, 3):
        member = scenario.members[i]
        data = claim_data(ctx, member.address)
        owed = data.cumulative - chain.claimed(data.index)
        before = chain.balance(member.address)
        chain.claim(data.index, member.address, data.cumulative, data.proof, sender=dev_account(8))
        assert owed > 0 and chain.balance(member.address) - before == owed
    with ctx.db.unit_of_work() as session:
        record = export_round(session, number)
    assert verify_record(record).ok
    assert record["rewards"]["root"] == "0x" + chain.reward_root().hex()


def test_a_lost_mint_is_redone_by_close_never_settled_on(scenario) -> None:
    ctx = scenario.ctx
    open_round(ctx, now=T0)
    vote_on_pool(scenario, 1, now=T0)
    before_close = _snapshot(scenario, "before-close.json")
    assert close_round(ctx, 1, now=after_voting()) == states.AUCTION
    _restore(scenario, before_close)  # the chain has no token, the database says auction

    with pytest.raises(RoundError, match=r"run `tastemaker round close 1` to mint") as caught:
        settle_round(ctx, 1)
    assert "\n" not in str(caught.value)
    assert close_round(ctx, 1, now=after_voting()) == states.AUCTION  # mints it again
    token_id = _token(scenario, 1)
    assert scenario.chain.works_count() == 1 and scenario.chain.auction(token_id).exists

    scenario.chain.bid(token_id, ETHER, sender=dev_account(BIDDER))
    scenario.chain.advance_time(3700)
    assert settle_round(ctx, 1) == states.SETTLED
    assert scenario.chain.reward_epoch() == 1
    _claims_pay_and_record_verifies(scenario, 1)


def test_a_lost_settlement_and_root_are_redone_before_the_next_round(scenario) -> None:
    ctx = scenario.ctx
    open_round(ctx, now=T0)
    vote_on_pool(scenario, 1, now=T0)
    close_round(ctx, 1, now=after_voting())
    scenario.chain.bid(_token(scenario, 1), ETHER, sender=dev_account(BIDDER))
    scenario.chain.advance_time(3700)
    before_settle = _snapshot(scenario, "before-settle.json")
    assert settle_round(ctx, 1) == states.SETTLED
    _restore(scenario, before_settle)  # unsettled auction, no root, distributor empty
    distributor = scenario.chain.contract("distributor").address
    assert scenario.chain.balance(distributor) == 0

    later = T0.replace(day=T0.day + 1)
    open_round(ctx, now=later)
    vote_on_pool(scenario, 2, now=later)
    with pytest.raises(RoundError, match=r"run `tastemaker round settle 1` first"):
        close_round(ctx, 2, now=later.replace(hour=3))
    assert scenario.chain.works_count() == 1  # nothing built on the missing settlement

    assert settle_round(ctx, 1) == states.SETTLED  # settles and posts the root again
    assert scenario.chain.auction(_token(scenario, 1)).settled
    assert scenario.chain.balance(distributor) == ETHER * 45 // 100
    assert scenario.chain.reward_epoch() == 1
    _claims_pay_and_record_verifies(scenario, 1)
    assert close_round(ctx, 2, now=later.replace(hour=3)) == states.AUCTION
