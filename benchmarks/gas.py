"""Gas of the on-chain rails, measured from real transaction receipts on a fresh
embedded chain (anvil, Prague rules). Prints JSON.

    python benchmarks/gas.py [--leaves 100000] [--claims 8]

Every figure is the receipt's ``gasUsed`` (21,000 base + calldata + execution),
except the voting-power read, which is ``eth_estimateGas`` of the view call.
Claims are made by the account itself (the usual case) on a tree of ``--leaves``
random accounts; "first" is an account's first claim ever (its claimed-amount word
goes from zero to non-zero), "repeat" is the next claim after a new cumulative root.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.deployment import DeployParams
from tastemaker.chain.settings import ChainSettings
from tastemaker.core.merkle import RewardTree

ETH = 10**18


def _summary(values: list[int]) -> dict[str, float | int]:
    return {"mean": round(statistics.mean(values)), "min": min(values), "max": max(values)}


def measure(leaves: int, claims: int) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="tastemaker-gas-"))
    settings = ChainSettings(home=home)
    with ChainClient.connect(settings) as c:
        d = c.deploy(DeployParams(treasury=dev_account(1).address))
        gas: dict[str, object] = {}

        voter = dev_account(2)
        c.transfer_token(voter.address, 1000 * ETH)
        c.transfer_token(dev_account(3).address, 1000 * ETH)
        c.stake(10 * ETH, sender=dev_account(3))  # warms the staking contract's token balance
        c.mine()
        gas["stake_first"] = c.stake(10 * ETH, sender=voter).gas_used  # after a one-off approve
        c.mine()
        gas["stake_again"] = c.stake(5 * ETH, sender=voter).gas_used
        c.mine()
        gas["unstake"] = c.unstake(5 * ETH, sender=voter).gas_used
        c.mine(3)
        now = c.block_number()
        vp_read = c.contract("staking").functions.min_stake_between(voter.address, now - 5, now)
        gas["voting_power_read_estimate"] = vp_read.estimate_gas()

        token_id = c.mint_work(d.addresses["auction"], os.urandom(32), "ipfs://" + "b" * 59)
        gas["mint"] = _last_gas(c)
        c.start_auction(token_id)
        gas["start_auction"] = _last_gas(c)
        state = c.auction(token_id)
        gas["bid_first"] = c.bid(token_id, state.min_next_bid(), sender=dev_account(3)).gas_used
        gas["bid_outbid"] = c.bid(
            token_id, c.auction(token_id).min_next_bid(), sender=dev_account(4)
        ).gas_used
        c.advance_time(state.end_time - c.block_timestamp() - 60)
        gas["bid_outbid_extending"] = c.bid(
            token_id, c.auction(token_id).min_next_bid(), sender=dev_account(3)
        ).gas_used
        c.advance_time(3600)
        gas["settle"] = c.settle(token_id).gas_used

        claimers = [dev_account(10 + i) for i in range(claims)]
        amounts = {"0x" + os.urandom(20).hex(): 10**12 + i for i in range(leaves - claims)}
        for i, a in enumerate(claimers):
            amounts[a.address] = 10**15 + i
            c.fund(a.address, ETH)  # pays its own gas
        c.fund(d.addresses["distributor"], 10**6 * ETH)
        t0 = time.perf_counter()
        tree = RewardTree.build(amounts)
        build_s = time.perf_counter() - t0
        gas["post_root"] = c.post_root(1, tree.root, tree.total).gas_used
        first, proof_lengths = [], []
        for a in claimers:
            proof = tree.proof(a.address)
            proof_lengths.append(len(proof))
            first.append(c.claim(a.address, amounts[a.address], proof, sender=a).gas_used)
        for a in claimers:
            amounts[a.address] *= 2
        tree = RewardTree.build(amounts)
        c.post_root(2, tree.root, tree.total)
        repeat = [
            c.claim(a.address, amounts[a.address], tree.proof(a.address), sender=a).gas_used
            for a in claimers
        ]
        gas["claim_first"] = _summary(first)
        gas["claim_repeat"] = _summary(repeat)
        return {
            "chain": "anvil (embedded), receipts gasUsed",
            "tree_leaves": leaves,
            "proof_lengths": sorted(set(proof_lengths)),
            "tree_build_seconds": round(build_s, 2),
            "targets": {"claim": 65_000, "bid": 80_000},
            "gas": gas,
        }


def _last_gas(c: ChainClient) -> int:
    block = c.w3.eth.get_block("latest", full_transactions=True)
    return int(c.w3.eth.get_transaction_receipt(block["transactions"][-1]["hash"])["gasUsed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=8)
    args = parser.parse_args()
    json.dump(measure(args.leaves, args.claims), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
