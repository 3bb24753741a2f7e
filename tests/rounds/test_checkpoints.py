"""No staker can halt a round (issue 11): one account writes thousands of one-wei
stake checkpoints inside the round's window, and `round close` still succeeds, reading
that account's minimum stake in O(log n)."""

from __future__ import annotations

import os
import time

import pytest
import requests
from eth_account.signers.local import LocalAccount

from tastemaker.chain.client import ChainClient
from tastemaker.rounds import states
from tastemaker.rounds.service import close_round, open_round
from tastemaker.store.tables import Round
from tests.rounds.scenario import ETHER, STAKES, T0, after_voting, build, vote_on_pool

pytestmark = pytest.mark.slow

# 6,000 by default: past the 4,096 that used to make the stake read revert (the attack
# of issue 11), about 2 min on a 2-core machine. anvil's cost per block grows with the
# chain, so 10,000 (the figure; TASTEMAKER_TEST_CHECKPOINTS=10000) takes ~5 min.
CHECKPOINTS = int(os.environ.get("TASTEMAKER_TEST_CHECKPOINTS", "6000"))
STAKE_GAS = 300_000  # each one-wei stake's gas limit (it uses about half)
SIGN_CHUNK = 500  # transactions signed ahead of sending


def _call(session: requests.Session, url: str, method: str, params: list) -> object:
    """One JSON-RPC call on a kept-alive connection, without web3's 30 s read timeout."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = session.post(url, json=request, timeout=60).json()
    assert "error" not in answer, (method, answer)
    return answer.get("result")


def stake_once_per_block(chain: ChainClient, account: LocalAccount, count: int) -> None:
    """``count`` one-wei stakes by ``account``, each mined in a block of its own, so
    each writes a checkpoint: real transactions, signed here with consecutive nonces
    and sent as raw transactions over one kept-alive connection, with automine off
    and an ``evm_mine`` after each, so no block can take two of them."""
    staking = chain.contract("staking")
    data = staking.functions.stake(1)._encode_transaction_data()
    before = staking.functions.num_checkpoints(account.address).call()
    chain_id = chain.w3.eth.chain_id
    nonce = chain.w3.eth.get_transaction_count(account.address, "pending")
    # A fee cap far above the base fee, which only falls over near-empty blocks.
    fee = 2 * chain.w3.eth.get_block("latest")["baseFeePerGas"] + 10**9
    url = chain.rpc_url
    with requests.Session() as session:
        _call(session, url, "evm_setAutomine", [False])
        try:
            for start in range(0, count, SIGN_CHUNK):
                signed = [
                    account.sign_transaction(
                        {
                            "to": staking.address,
                            "data": data,
                            "value": 0,
                            "gas": STAKE_GAS,
                            "maxFeePerGas": fee,
                            "maxPriorityFeePerGas": 0,
                            "nonce": nonce + i,
                            "chainId": chain_id,
                        }
                    ).raw_transaction.to_0x_hex()
                    for i in range(start, min(start + SIGN_CHUNK, count))
                ]
                if os.environ.get("TASTEMAKER_TEST_PROGRESS"):
                    print(f"{start} stakes sent, {time.monotonic():.1f}", flush=True)
                for raw in signed:
                    _call(session, url, "eth_sendRawTransaction", [raw])
                    _call(session, url, "evm_mine", [])
        finally:
            _call(session, url, "evm_setAutomine", [True])
    # Each stake was mined, succeeded, and wrote a checkpoint of its own.
    assert chain.w3.eth.get_transaction_count(account.address, "latest") == nonce + count
    assert staking.functions.num_checkpoints(account.address).call() == before + count
    chain.persist()


def test_a_round_closes_despite_many_checkpoints(tmp_path, capsys) -> None:
    scenario = build(tmp_path / "home")
    ctx, chain = scenario.ctx, scenario.chain
    try:
        spammer = scenario.members[1].address
        chain.transfer_token(spammer, ETHER)
        number = open_round(ctx, now=T0)
        with ctx.db.unit_of_work() as session:
            open_block = session.get(Round, number).open_block
        started = time.monotonic()
        stake_once_per_block(chain, scenario.members[1], CHECKPOINTS)
        seconds = time.monotonic() - started
        staking = chain.contract("staking").functions
        assert staking.num_checkpoints(spammer).call() >= CHECKPOINTS
        now = chain.block_number()
        read = staking.min_stake_between(spammer, open_block, now)
        # Only stakes were added inside the window: the minimum is the stake at opening.
        assert read.call() == STAKES[1]
        gas = read.estimate_gas()
        with capsys.disabled():  # the figure the issue asks for, in the test output
            print(
                f"\n{CHECKPOINTS} checkpoints written in {seconds:.0f} s; "
                f"min_stake_between over the window: {gas} gas"
            )

        vote_on_pool(scenario, number, now=T0)
        assert close_round(ctx, number, now=after_voting()) == states.AUCTION
        with ctx.db.unit_of_work() as session:
            close_block = session.get(Round, number).close_block
        # The batch read the close used counts the spammer's stake in full.
        others = [m.address for m in scenario.members.values()]
        stakes = chain.min_stakes_between(others, open_block, close_block)
        assert stakes[spammer] == STAKES[1]
    finally:
        ctx.db.dispose()
        chain.close()
