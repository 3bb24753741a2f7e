"""Simulated members as real wallets: a key each, ETH for gas, TASTE staked."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from tastemaker.chain.client import ChainClient
from tastemaker.sim.community import Community, SimMember

TOKEN = 10**18
GAS_MONEY = 100 * TOKEN  # dev-chain ETH per member, for gas and bids


@dataclass(frozen=True)
class DemoMember:
    sim: SimMember
    account: LocalAccount
    stake: int  # TASTE base units staked before the first round

    @property
    def address(self) -> str:
        return self.account.address


def demo_members(community: Community, seed: int) -> list[DemoMember]:
    """One deterministic key per simulated member; stake follows its voting power."""
    members = []
    for sim in community.members:
        key = keccak(f"tastemaker-demo:{seed}:{sim.member_id}".encode())
        members.append(
            DemoMember(sim, Account.from_key(key), int(round(sim.voting_power, 6) * TOKEN))
        )
    return members


def onboard(chain: ChainClient, members: list[DemoMember]) -> None:
    """Fund, hand out and stake TASTE (skipping members already staked: re-runs are safe)."""
    with chain.batch():  # one state write for the lot, not one per transaction
        for member in members:
            if chain.staked(member.address) >= member.stake:
                continue
            chain.fund(member.address, GAS_MONEY)
            missing = member.stake - chain.token_balance(member.address)
            if missing > 0:
                chain.transfer_token(member.address, missing)
            chain.stake(member.stake, sender=member.account)
