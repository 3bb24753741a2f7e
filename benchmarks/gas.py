"""Gas of the on-chain rails, measured from real transaction receipts on a fresh
embedded chain (anvil, Prague rules). Prints JSON.

    python benchmarks/gas.py [--leaves 100000] [--words 24] [--seed 4]

Claims are measured against an activated root (after its challenge window); a claim
against a root whose window has passed but that nobody activated yet costs about 4,200
gas more (two more cold reads). Every figure is the receipt's ``gasUsed``
(21,000 base + calldata + execution), except the voting-power read, which is
``eth_estimateGas`` of the view call.
Claims are made by the account itself (the usual case) on a tree of ``--leaves``
random accounts with indexes 0..leaves-1. The claimers hold both indexes (2k, 2k+1)
of ``--words`` random storage words of the distributor's packed claimed amounts and
claim in a random order: "claim_first_in_word" is a first claim that finds its word
empty (zero-to-non-zero write), "claim_second_in_word" a first claim whose neighbour
already claimed (non-zero-to-non-zero), "claim_first_all" the mean over every first
claim (half of each, as when every account eventually claims), "claim_repeat" the
next claim of each after a new cumulative root.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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


def measure(leaves: int, words: int, seed: int) -> dict[str, object]:
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

        rnd = random.Random(seed)
        claimed_words = rnd.sample(range(leaves // 2), words)
        claimer_indexes = [i for w in claimed_words for i in (2 * w, 2 * w + 1)]
        claimers = {i: dev_account(10 + k) for k, i in enumerate(claimer_indexes)}
        accounts = ["0x" + rnd.randbytes(20).hex() for _ in range(leaves)]
        for index, account in claimers.items():
            accounts[index] = account.address
        indexes = {a: i for i, a in enumerate(accounts)}
        amounts = {a: 10**12 + i for i, a in enumerate(accounts)}
        for k, a in enumerate(claimers.values()):
            amounts[a.address] = 10**15 + k
            c.fund(a.address, ETH)  # pays its own gas
        # Funded by a real transfer: the distributor counts what it received, and a
        # root's total may not exceed it.
        c.fund(dev_account(1).address, 10**7 * ETH)
        c.send_eth(d.addresses["distributor"], 10**6 * ETH, sender=dev_account(1))
        t0 = time.perf_counter()
        tree = RewardTree.build(amounts, indexes)
        build_s = time.perf_counter() - t0
        gas["post_root"] = c.post_root(1, tree.root, tree.total).gas_used
        c.await_claimable(1)  # wait out the challenge window and activate the root
        order = list(claimers)
        rnd.shuffle(order)
        first_in_word, second_in_word, proof_lengths = [], [], []
        for index in order:
            a = claimers[index]
            proof = tree.proof(a.address)
            proof_lengths.append(len(proof))
            used = c.claim(index, a.address, amounts[a.address], proof, sender=a).gas_used
            neighbour_claimed = c.claimed(index ^ 1) > 0
            (second_in_word if neighbour_claimed else first_in_word).append(used)
        for a in claimers.values():
            amounts[a.address] *= 2
        tree = RewardTree.build(amounts, indexes)
        c.post_root(2, tree.root, tree.total)
        c.await_claimable(2)
        repeat = [
            c.claim(i, a.address, amounts[a.address], tree.proof(a.address), sender=a).gas_used
            for i, a in claimers.items()
        ]
        gas["claim_first_in_word"] = _summary(first_in_word)
        gas["claim_second_in_word"] = _summary(second_in_word)
        gas["claim_first_all"] = _summary(first_in_word + second_in_word)
        gas["claim_repeat"] = _summary(repeat)
        return {
            "chain": "anvil (embedded), receipts gasUsed",
            "tree_leaves": leaves,
            "claimers": len(claimers),
            "proof_lengths": sorted(set(proof_lengths)),
            "tree_build_seconds": round(build_s, 2),
            "targets": {"claim_first": 70_000, "claim_repeat": 55_000, "bid": 80_000},
            "gas": gas,
        }


def _last_gas(c: ChainClient) -> int:
    block = c.w3.eth.get_block("latest", full_transactions=True)
    return int(c.w3.eth.get_transaction_receipt(block["transactions"][-1]["hash"])["gasUsed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=24, help="storage words claimed (x2 claimers)")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    json.dump(measure(args.leaves, args.words, args.seed), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
