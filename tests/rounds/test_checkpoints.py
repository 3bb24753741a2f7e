"""No staker can halt a round (issue 11): one account writes thousands of one-wei
stake checkpoints inside the round's window, and `round close` still succeeds, reading
that account's minimum stake in O(log n)."""

from __future__ import annotations

import os
import time

import pytest
import requests

from tastemaker.chain.client import ChainClient
from tastemaker.rounds import states
from tastemaker.rounds.service import close_round, open_round
from tastemaker.store.tables import Round
from tests.rounds.scenario import ETHER, STAKES, T0, after_voting, build, vote_on_pool

pytestmark = pytest.mark.slow

# 4,200 by default: past the 4,096 that used to make the stake read revert (the attack
# of issue 11), and a few minutes on a 2-core CI machine. TASTEMAKER_TEST_CHECKPOINTS
# sets it (10,000 for the figure: an O(log n) read, ~2 more search steps).
CHECKPOINTS = int(os.environ.get("TASTEMAKER_TEST_CHECKPOINTS", "4200"))
STAKE_GAS = 300_000  # each one-wei stake's gas limit: a block of 1.5x fits only one
BATCH = 1000


def _rpc(chain: ChainClient, method: str, params: list) -> object:
    """One JSON-RPC call without web3's 30 s read timeout (mining a batch takes longer)."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = requests.post(chain.rpc_url, json=request, timeout=600).json()
    assert "error" not in answer, answer
    return answer.get("result")


def stake_once_per_block(chain: ChainClient, account: str, count: int) -> None:
    """``count`` one-wei stakes by ``account``, each in its own block, so each writes a
    checkpoint. Real transactions from an anvil-unlocked account, sent in JSON-RPC
    batches; the block gas limit is lowered so a mined block holds only one of them
    (one transaction a block through the usual path would take far longer)."""
    staking = chain.contract("staking")
    data = staking.functions.stake(1)._encode_transaction_data()
    target = staking.functions.num_checkpoints(account).call() + count
    _rpc(chain, "evm_setAutomine", [False])
    gas_limit = chain.w3.eth.get_block("latest")["gasLimit"]
    _rpc(chain, "evm_setBlockGasLimit", [hex(STAKE_GAS * 3 // 2)])
    try:
        while (have := staking.functions.num_checkpoints(account).call()) < target:
            nonce = chain.w3.eth.get_transaction_count(account, "pending")
            batch = [
                {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "eth_sendTransaction",
                    "params": [
                        {
                            "from": account,
                            "to": staking.address,
                            "data": data,
                            "gas": hex(STAKE_GAS),
                            "nonce": hex(nonce + i),
                        }
                    ],
                }
                for i in range(min(BATCH, target - have))
            ]
            answers = requests.post(chain.rpc_url, json=batch, timeout=600).json()
            assert all("result" in a for a in answers), answers[:2]
            while chain.w3.eth.get_transaction_count(account, "latest") < nonce + len(batch):
                _rpc(chain, "anvil_mine", [hex(len(batch))])
    finally:
        _rpc(chain, "evm_setBlockGasLimit", [hex(gas_limit)])
        _rpc(chain, "evm_setAutomine", [True])
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
        stake_once_per_block(chain, spammer, CHECKPOINTS)
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
