"""Deploying the contracts, wired as ``deployment.deploy_contracts`` wires them, into
titanoboa's in-memory EVM: a timelock (proposer/executor ``proposer``) is the admin of
everything, ``operator`` is the hot key, ``guardian`` may veto roots."""

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
TIMELOCK_DELAY = 2 * DAY
WINDOW = DAY  # the distributor's challenge window
ADMIN_ROLE = bytes(32)


def role(name: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=name)


@dataclass
class System:
    operator: str
    treasury: str
    proposer: str
    guardian: str
    timelock: object
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


def deploy_system(window: int = WINDOW) -> System:
    operator = boa.env.generate_address("operator")
    treasury = boa.env.generate_address("treasury")
    proposer = boa.env.generate_address("proposer")
    guardian = boa.env.generate_address("guardian")
    deployer_ = boa.env.generate_address("deployer")
    with boa.env.prank(deployer_):
        timelock = deployer("Timelock").deploy(TIMELOCK_DELAY, [proposer], [proposer])
        token = deployer("TasteToken").deploy("Taste", "TASTE", 10**27, operator)
        staking = deployer("Staking").deploy(token.address)
        works = deployer("Works").deploy("Tastemaker Works", "WORK", treasury, 500)
        distributor = deployer("RewardDistributor").deploy(
            operator, guardian, timelock.address, window
        )
        auction = deployer("AuctionHouse").deploy(
            works.address,
            distributor.address,
            treasury,
            operator,
            timelock.address,
            RESERVE,
            DURATION,
            BUFFER,
            INCREMENT_BPS,
            DISTRIBUTOR_BPS,
            OPERATOR_BPS,
        )
        works.grantRole(role("MINTER_ROLE"), auction.address)
        works.grantRole(ADMIN_ROLE, timelock.address)
        works.renounceRole(ADMIN_ROLE, deployer_)
    return System(
        operator,
        treasury,
        proposer,
        guardian,
        timelock,
        token,
        staking,
        works,
        distributor,
        auction,
    )


def through_timelock(s: System, target, fn_name: str, *args, wait: int = TIMELOCK_DELAY) -> None:
    """Schedule ``target.fn_name(*args)`` on the timelock, wait ``wait`` s, execute it."""
    payload = _calldata(target, fn_name, *args)
    salt = bytes(32)
    with boa.env.prank(s.proposer):
        s.timelock.schedule(target.address, 0, payload, bytes(32), salt, TIMELOCK_DELAY)
    boa.env.time_travel(seconds=wait)
    with boa.env.prank(s.proposer):
        s.timelock.execute(target.address, 0, payload, bytes(32), salt)


def _calldata(target, fn_name: str, *args) -> bytes:
    fn = getattr(target, fn_name)
    return fn.prepare_calldata(*args)


def mint_to_auction_house(s: System, content: bytes, uri: str = "ipfs://work") -> int:
    with boa.env.prank(s.operator):
        return s.auction.mint_work(content, uri)


def new_account(name: str = "account", wei: int = 10**22) -> str:
    """A new account holding ``wei``."""
    account = boa.env.generate_address(name)
    boa.env.set_balance(account, wei)
    return account


def start_auction(s: System, content: bytes = b"\x01" * 32) -> int:
    """Mint a work to the auction house and start its auction."""
    with boa.env.prank(s.operator):
        token_id = s.auction.mint_work(content, "ipfs://work")
        s.auction.create_auction(token_id)
    return token_id
