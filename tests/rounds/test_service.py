"""The round loop end to end on a real embedded chain, including crash and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tastemaker.chain.client import dev_account
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
from tastemaker.store.tables import Auction, Reward, RewardEpoch, Round
from tests.conftest import run_cli
from tests.rounds.scenario import BIDDER, ETHER, T0, after_voting, build, vote_on_pool

pytestmark = pytest.mark.slow


@pytest.fixture
def scenario(tmp_path):
    built = build(tmp_path / "home")
    yield built
    built.ctx.db.dispose()
    built.chain.close()


def _run_round(scenario, bid: int = ETHER) -> int:
    ctx = scenario.ctx
    number = open_round(ctx, now=T0)
    vote_on_pool(scenario, number, now=T0)
    assert close_round(ctx, number, now=after_voting()) == states.AUCTION
    with ctx.db.unit_of_work() as session:
        token_id = session.get(Round, number).token_id
    if bid:
        scenario.chain.bid(token_id, bid, sender=dev_account(BIDDER))
    scenario.chain.advance_time(3700)
    assert settle_round(ctx, number) == states.SETTLED
    return number


def test_a_round_from_opening_to_claims(scenario) -> None:
    ctx, chain = scenario.ctx, scenario.chain
    with pytest.raises(RoundError, match="close and settle it first"):
        open_round(ctx, now=T0) and open_round(ctx, now=T0)
    number = 1
    with pytest.raises(RoundError, match="open for voting until"):
        close_round(ctx, number, now=T0)
    vote_on_pool(scenario, number, now=T0)
    close_round(ctx, number, now=after_voting())
    with ctx.db.unit_of_work() as session:
        round_ = session.get(Round, number)
        token_id = round_.token_id
        assert round_.state == states.AUCTION and round_.winner is not None
    assert chain.token_of_content(round_.winner) == token_id
    with pytest.raises(RoundError, match="runs until"):
        settle_round(ctx, number)
    chain.bid(token_id, ETHER, sender=dev_account(BIDDER))
    chain.advance_time(3700)
    assert settle_round(ctx, number) == states.SETTLED
    assert chain.work_owner(token_id) == dev_account(BIDDER).address

    with ctx.db.unit_of_work() as session:
        auction = session.get(Auction, number)
        assert auction.amount == ETHER and auction.voter_pool == ETHER * 45 // 100
        rewards = {r.account: r.amount for r in session.scalars(select(Reward))}
    assert sum(rewards.values()) == ETHER * 45 // 100
    assert scenario.members[4].address not in rewards  # below the stake to earn
    assert chain.reward_root() == session.scalar(select(RewardEpoch.root))

    for index in (1, 2, 3):
        member = scenario.members[index]
        data = claim_data(ctx, member.address)
        before = chain.balance(member.address)
        result = chain.claim(
            data.index, member.address, data.cumulative, data.proof, sender=dev_account(8)
        )
        assert chain.claimed(data.index) == data.cumulative
        assert chain.balance(member.address) - before == rewards[member.address]  # to the wei
        assert result.gas_used < 100_000

    with ctx.db.unit_of_work() as session:
        record = export_round(session, number)
    report = verify_record(record)
    assert report.ok, report.checks
    assert record["rewards"]["root"] == "0x" + chain.reward_root().hex()

    # The same through the command line, as an auditor would run it.
    out = ctx.home / "round-1.json"
    assert run_cli("export", "--round", "1", "--out", str(out)).returncode == 0
    verified = run_cli("verify", str(out))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "root on chain" in verified.stdout and "round 1 verifies" in verified.stdout
    # An auditor's own home has no contracts: told how to reach the chain, no node started.
    auditor = ctx.home.parent / "auditor"
    env = os.environ | {"TASTEMAKER_HOME": str(auditor)}
    for key in ("TASTEMAKER_CHAIN_RPC_URL", "TASTEMAKER_CHAIN_MODE"):
        env.pop(key, None)
    command = [sys.executable, "-m", "tastemaker", "verify", str(out)]
    advised = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert advised.returncode == 2 and "chain deploy" not in advised.stderr
    assert "--rpc-url" in advised.stderr and "--offline" in advised.stderr
    assert not (auditor / "chain").exists()
    by_url = subprocess.run(
        [*command, "--rpc-url", chain.rpc_url], env=env, capture_output=True, text=True
    )
    assert by_url.returncode == 0, by_url.stdout + by_url.stderr
    assert "root on chain" in by_url.stdout and "round 1 verifies" in by_url.stdout
    rendered = run_cli("verify", str(out), "--offline", "--render")
    assert rendered.returncode == 0 and "winner re-renders" in rendered.stdout, rendered.stdout
    recipe_changed = json.loads(out.read_text())
    recipe_changed["winner_recipe"]["genome"]["palette"]["shade"] = 0.99
    out.write_text(json.dumps(recipe_changed))
    unrendered = run_cli("verify", str(out), "--offline", "--render")
    assert unrendered.returncode == 1 and "renders to" in unrendered.stdout, unrendered.stdout
    tampered = json.loads(out.read_text())
    tampered["winner_recipe"] = record["winner_recipe"]
    tampered["rewards"]["shares"][scenario.members[1].address] = "1"
    out.write_text(json.dumps(tampered))
    failed = run_cli("verify", str(out), "--offline")
    assert failed.returncode == 1 and "FAILED" in failed.stdout
    # The round was counted by the member-bias rule and says how close it was.
    assert record["rules"]["tally"] == "member-bias"
    assert record["votes_to_flip"]["count"] >= 1
    assert "votes to flip" in {c.name for c in report.checks}
    closer = json.loads(json.dumps(record))
    closer["votes_to_flip"]["count"] += 1
    out.write_text(json.dumps(closer))
    failed = run_cli("verify", str(out), "--offline")
    assert failed.returncode == 1 and "votes to flip" in failed.stdout
    out.write_text("{ not json")
    broken = run_cli("verify", str(out))
    assert broken.returncode == 2 and "is not JSON" in broken.stderr
    out.write_text("[]")
    not_a_record = run_cli("verify", str(out))
    assert not_a_record.returncode == 2 and "is not a round record" in not_a_record.stderr


def test_no_bids_and_a_second_round_carry_over(scenario) -> None:
    ctx, chain = scenario.ctx, scenario.chain
    first = _run_round(scenario, bid=0)
    with ctx.db.unit_of_work() as session:
        token_id = session.get(Round, first).token_id
        assert session.scalar(select(RewardEpoch)) is None  # nothing to share
    assert chain.work_owner(token_id) == dev_account(9).address  # to the treasury
    second = _run_round(scenario, bid=2 * ETHER)
    assert second == first + 1
    with ctx.db.unit_of_work() as session:
        epoch = session.scalar(select(RewardEpoch))
        assert epoch.round == second and epoch.distributed == 2 * ETHER * 45 // 100

    # A third round adds epoch 2 on top of epoch 1: the records chain up, and an
    # auditor with all of them checks that too.
    third = _run_round(scenario, bid=ETHER)
    files = []
    for number in (first, second, third):
        files.append(str(ctx.home / f"round-{number}.json"))
        assert run_cli("export", "--round", str(number), "--out", files[-1]).returncode == 0
    verified = run_cli("verify", *files)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "epoch 2 follows on" in verified.stdout and "FAILED" not in verified.stdout
    alone = run_cli("verify", files[0], files[2], "--offline")
    assert alone.returncode == 1 and "epoch 1 is missing" in alone.stdout


CRASH_POINTS = [
    "learned",
    "generated",
    "closing",
    "tallied",
    "minted",
    "auction_started",
    "auction_settled",
    "rewards_computed",
    "root_posted",
]


class Crash(Exception):
    pass


def test_crash_anywhere_then_resume_ends_the_same(scenario) -> None:
    """One round per crash point: the operator re-runs the step that died."""
    ctx, chain = scenario.ctx, scenario.chain
    for number, point in enumerate(CRASH_POINTS, start=1):
        crashed: list[str] = []

        def crash_once(name: str, point: str = point, crashed: list[str] = crashed) -> None:
            if name == point and not crashed:
                crashed.append(name)
                raise Crash(name)

        def again_after_crash(step):
            try:
                return step()
            except Crash:
                return step()

        ctx.checkpoint = crash_once
        now = T0 + timedelta(days=number)
        assert again_after_crash(lambda now=now: open_round(ctx, now=now)) == number
        vote_on_pool(scenario, number, now=now)
        again_after_crash(
            lambda n=number, now=now: close_round(ctx, n, now=now + timedelta(hours=2))
        )
        with ctx.db.unit_of_work() as session:
            token_id = session.get(Round, number).token_id
        chain.bid(token_id, ETHER, sender=dev_account(BIDDER))
        chain.advance_time(3700)
        assert again_after_crash(lambda n=number: settle_round(ctx, n)) == states.SETTLED

        assert crashed == [point], f"never reached checkpoint {point}"
        with ctx.db.unit_of_work() as session:
            assert [r.state for r in session.scalars(select(Round))] == [states.SETTLED] * number
            assert session.scalar(select(func.max(RewardEpoch.epoch))) == number
            assert verify_record(export_round(session, number)).ok
        assert chain.works_count() == number  # one mint per round, never two
        assert chain.reward_epoch() == number  # one root per round
