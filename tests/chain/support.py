"""Deploying the five contracts, wired, into titanoboa's in-memory EVM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import boa

from tastemaker.chain.artifacts import source_path

TEST_CONTRACTS = Path(__file__).parent / "contracts"
DAY = 24 * 3600
RESERVE = 10**16
DURATION = 2 * DAY
BUFFER = 15 * 60
INCREMENT_BPS = 500
DISTRIBUTOR_BPS = 4500
OPERATOR_BPS = 1000


@dataclass
class System:
    operator: str
    treasury: str
    token: object
    staking: object
    works: object
    distributor: object
    auction: object


_deployers: dict[str, object] = {}


def deployer(name: str) -> object:
    """Compile once per process (boa caches nothing across `load` calls)."""
    if name not in _deployers:
        path = source_path(name) if source_path(name).exists() else TEST_CONTRACTS / f"{name}.vy"
        _deployers[name] = boa.load_partial(str(path))
    return _deployers[name]


def deploy_system() -> System:
    operator = boa.env.generate_address("operator")
    treasury = boa.env.generate_address("treasury")
    with boa.env.prank(operator):
        token = deployer("TasteToken").deploy("Taste", "TASTE", 10**27, operator)
        staking = deployer("Staking").deploy(token.address)
        works = deployer("Works").deploy("Tastemaker Works", "WORK", treasury, 500)
        distributor = deployer("RewardDistributor").deploy(operator)
        auction = deployer("AuctionHouse").deploy(
            works.address,
            distributor.address,
            treasury,
            operator,
            RESERVE,
            DURATION,
            BUFFER,
            INCREMENT_BPS,
            DISTRIBUTOR_BPS,
            OPERATOR_BPS,
        )
    return System(operator, treasury, token, staking, works, distributor, auction)


def new_account(name: str = "account", wei: int = 10**22) -> str:
    """A new account holding ``wei``."""
    account = boa.env.generate_address(name)
    boa.env.set_balance(account, wei)
    return account


def start_auction(s: System, content: bytes = b"\x01" * 32) -> int:
    """Mint a work to the auction house and start its auction."""
    with boa.env.prank(s.operator):
        token_id = s.works.mint(s.auction.address, content, "ipfs://work")
        s.auction.create_auction(token_id)
    return token_id
