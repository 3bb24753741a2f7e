"""`verify` against the chain: a real round on the embedded chain, then tampered
copies of its record. Each forgery fails with a check that names what differs; the
untouched record passes (docs/decisions/0051)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from tastemaker.chain.client import dev_account
from tastemaker.core.audit import AuditReport, verify_record
from tastemaker.core.ballots import Vote, sign_vote
from tastemaker.core.commitment import vote_proof, vote_set_tree
from tastemaker.core.outcome import latest_votes
from tastemaker.core.voting_power import allowance
from tastemaker.rounds import states
from tastemaker.rounds.chain_check import check_against_chain
from tastemaker.rounds.record import export_round
from tastemaker.rounds.service import claim_data, close_round, open_round, settle_round
from tastemaker.rounds.votes import cast_vote, vote_domain
from tastemaker.store.tables import PoolEntry, Round
from tests.conftest import run_cli
from tests.rounds.scenario import BIDDER, ETHER, STAKES, T0, after_voting, build, vote_on_pool

pytestmark = pytest.mark.slow


def _revote(scenario, number: int) -> None:
    """Member 1 votes again on the first work it voted on: the earlier vote stops
    counting but stays part of the round's vote set."""
    ctx, member = scenario.ctx, scenario.members[1]
    with ctx.db.unit_of_work() as session:
        round_ = session.get(Round, number)
        work = session.query(PoolEntry.work).filter_by(round=number, position=0).scalar()
        domain = vote_domain(round_.chain_id, round_.verifying_contract)
        vote = Vote(member.address, number, work, 1, STAKES[1] // 4, 9)
        cast_vote(
            session,
            vote.message_json(),
            sign_vote(vote, domain, member.key),
            lambda voter, r: allowance(STAKES[1], ctx.settings.voting_rules()),
            now=T0,
        )


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """One round voted, sold for 1 ETH, settled, one claim made; its record."""
    home = tmp_path_factory.mktemp("verify") / "home"
    scenario = build(home)
    ctx, chain = scenario.ctx, scenario.chain
    number = open_round(ctx, now=T0)
    vote_on_pool(scenario, number, now=T0)
    _revote(scenario, number)
    assert close_round(ctx, number, now=after_voting()) == states.AUCTION
    with ctx.db.unit_of_work() as session:
        token_id = session.get(Round, number).token_id
    chain.bid(token_id, ETHER, sender=dev_account(BIDDER))
    chain.advance_time(3700)
    assert settle_round(ctx, number) == states.SETTLED
    data = claim_data(ctx, scenario.members[1].address)
    chain.claim(data.index, data.account, data.cumulative, data.proof)
    with ctx.db.unit_of_work() as session:
        record = json.loads(json.dumps(export_round(session, number)))
    scenario.record = record
    # Round 2, sold too: epoch 2 follows epoch 1 on chain.
    second = open_round(ctx, now=T0 + timedelta(days=7))
    vote_on_pool(scenario, second, now=T0 + timedelta(days=7))
    assert close_round(ctx, second, now=after_voting(24 * 7 + 2)) == states.AUCTION
    with ctx.db.unit_of_work() as session:
        token_id = session.get(Round, second).token_id
    chain.bid(token_id, ETHER // 2, sender=dev_account(BIDDER))
    chain.advance_time(3700)
    assert settle_round(ctx, second) == states.SETTLED
    with ctx.db.unit_of_work() as session:
        scenario.second = json.loads(json.dumps(export_round(session, second)))
    yield scenario, record
    ctx.db.dispose()
    chain.close()


def _verify(scenario, record: dict) -> AuditReport:
    report = verify_record(record)
    check_against_chain(record, report, scenario.chain)
    return report


def _failed(report: AuditReport) -> dict[str, str]:
    return {c.name: c.detail for c in report.checks if not c.ok}


def test_the_untouched_record_verifies_against_the_chain(settled) -> None:
    scenario, record = settled
    report = _verify(scenario, record)
    assert report.ok, _failed(report)
    names = {c.name for c in report.checks}
    assert {
        "vote set commitment",
        "token metadata on chain",
        "stakes on chain",
        "auction on chain",
        "root on chain",
        "previous epoch on chain",
    } - names == {"previous epoch on chain"}  # epoch 1 has none before it
    assert {"distributor funds", "claims on chain"} <= names
    assert not report.unchecked
    second = _verify(scenario, scenario.second)
    assert second.ok, _failed(second)
    assert "previous epoch on chain" in {c.name for c in second.checks}
    # 13 votes cast, one of them replaced: all 13 are in the committed vote set.
    assert len(record["votes"]) == 13
    ids = [bytes.fromhex(v["id"][2:]) for v in record["votes"]]
    tree = vote_set_tree(ids)
    assert vote_proof(tree, ids[0])  # a voter can be shown their vote is in it


def test_a_record_without_its_rewards_fails(settled) -> None:
    scenario, record = settled
    forged = copy.deepcopy(record)
    forged["rewards"] = None
    failed = _failed(_verify(scenario, forged))
    assert set(failed) == {"rewards on chain"}
    assert f"paid {ETHER * 45 // 100} wei to the distributor" in failed["rewards on chain"]
    del forged["rewards"]
    assert set(_failed(_verify(scenario, forged))) == {"rewards on chain"}


def test_a_record_with_only_the_counting_votes_fails(settled) -> None:
    scenario, record = settled
    forged = copy.deepcopy(record)
    counting = {
        (v.voter, v.work, v.nonce)
        for v in latest_votes(Vote.from_json(e["message"]) for e in record["votes"])
    }
    forged["votes"] = [
        e
        for e in record["votes"]
        if (lambda v: (v.voter, v.work, v.nonce) in counting)(Vote.from_json(e["message"]))
    ]
    assert len(forged["votes"]) == 12  # the tally, winner and rewards are unchanged
    failed = _failed(_verify(scenario, forged))
    assert set(failed) == {"vote set commitment"}
    assert "record's 12 votes" in failed["vote set commitment"]
    assert "commits to 13 votes" in failed["vote set commitment"]


def test_a_raised_stake_fails_against_the_staking_contract(settled) -> None:
    scenario, record = settled
    forged = copy.deepcopy(record)
    voter = scenario.members[3].address
    forged["allowances"][voter] |= {"min_stake": str(999_999 * ETHER), "vp": str(999_999 * ETHER)}
    failed = _failed(_verify(scenario, forged))
    assert set(failed) == {"stakes on chain"}
    assert voter in failed["stakes on chain"]
    assert f"the staking contract {STAKES[3]}" in failed["stakes on chain"]


def test_a_changed_auction_result_fails(settled) -> None:
    scenario, record = settled
    forged = copy.deepcopy(record)
    forged["auction"]["amount"] = str(2 * ETHER)
    failed = _failed(_verify(scenario, forged))
    assert set(failed) == {"auction on chain"}
    assert f"amount: record {2 * ETHER} wei, chain {ETHER} wei" in failed["auction on chain"]
    missing = copy.deepcopy(record)
    del missing["auction"]
    assert "no auction result" in _failed(_verify(scenario, missing))["auction on chain"]


def test_a_changed_root_or_pool_fails(settled) -> None:
    scenario, record = settled
    rerooted = copy.deepcopy(record)
    rerooted["rewards"]["root"] = "0x" + "11" * 32
    failed = _failed(_verify(scenario, rerooted))
    assert set(failed) == {"merkle root", "root on chain"}
    assert "root: record 0x1111" in failed["root on chain"]

    # More for voters than the auction sent: shares, totals and root made to match.
    richer = copy.deepcopy(record)
    richer["rewards"]["pool"] = str(ETHER)
    from tastemaker.core.outcome import reward_epoch

    epoch = reward_epoch(ETHER, verify_record(record).reward_weights, {}, {})
    richer["rewards"] |= {
        "shares": {a: str(v) for a, v in epoch.shares.items()},
        "cumulative": {a: str(v) for a, v in epoch.cumulative.items()},
        "root": "0x" + epoch.root.hex(),
    }
    failed = _failed(_verify(scenario, richer))
    assert {"root on chain", "distributor funds"} <= set(failed), failed
    assert "total: record" in failed["root on chain"]
    assert f"the auction house sent {ETHER * 45 // 100} wei" in failed["distributor funds"]


def test_the_command_line_verifies_and_lists_what_offline_skips(settled, monkeypatch) -> None:
    scenario, record = settled
    monkeypatch.setenv("TASTEMAKER_HOME", str(scenario.ctx.home))
    out = scenario.ctx.home / "round.json"
    out.write_text(json.dumps(record))
    honest = run_cli("verify", str(out))
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert "stakes on chain" in honest.stdout and "round 1 verifies" in honest.stdout
    second = scenario.ctx.home / "round-2.json"
    second.write_text(json.dumps(scenario.second))
    both = run_cli("verify", str(out), str(second))
    assert both.returncode == 0, both.stdout + both.stderr
    assert "tokens on chain" in both.stdout and "epoch 2 follows on" in both.stdout
    offline = run_cli("verify", "--offline", str(out))
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "not checked: token metadata on chain, stakes on chain" in offline.stdout
    forged = copy.deepcopy(record)
    forged["rewards"] = None
    out.write_text(json.dumps(forged))
    refused = run_cli("verify", str(out))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "does NOT verify: rewards on chain failed" in refused.stdout
    # Wrong shapes where only the chain checks look: one line, exit 2.
    odd = copy.deepcopy(record)
    odd["allowances"][scenario.members[1].address]["min_stake"] = "a lot"
    out.write_text(json.dumps(odd))
    broken = run_cli("verify", str(out))
    assert broken.returncode == 2 and broken.stderr.startswith("error:"), broken.stderr
    assert broken.stderr.strip().count("\n") == 0


def test_a_record_that_hides_its_winner_leaves_a_gap_in_the_tokens(settled) -> None:
    from tastemaker.rounds.chain_check import check_tokens_accounted

    scenario, record = settled
    honest = check_tokens_accounted([record, scenario.second], scenario.chain)
    assert honest.ok and honest.checked, honest
    hidden = copy.deepcopy(record)
    hidden |= {"token_id": None, "winner": None, "votes": [], "rewards": None}
    gap = check_tokens_accounted([hidden, scenario.second], scenario.chain)
    assert not gap.ok
    assert f"token {record['token_id']} ({record['winner']}) is in no record" in gap.detail
    forged_second = copy.deepcopy(scenario.second)
    forged_second["rewards"]["previous_cumulative"][scenario.members[1].address] = str(ETHER)
    failed = _failed(_verify(scenario, forged_second))
    assert "previous epoch on chain" in failed, failed


def test_an_unfunded_distributor_fails(settled) -> None:
    scenario, _ = settled
    chain = scenario.chain
    distributor = chain.contract("distributor").address
    funds = chain.balance(distributor)
    chain.fund(distributor, 0)  # the chain lost the ETH (a dev chain can say so)
    try:
        failed = _failed(_verify(scenario, scenario.second))
    finally:
        chain.fund(distributor, funds)
    assert set(failed) == {"claims on chain"}, failed
    assert "the distributor holds 0 wei" in failed["claims on chain"]
    assert "claims would revert" in failed["claims on chain"]
