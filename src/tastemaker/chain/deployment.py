"""Deploying the contract set and the deployment record (a JSON file per chain id)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from web3 import Web3

from tastemaker.chain.artifacts import load_artifact

if TYPE_CHECKING:
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings

# Record key -> contract name.
CONTRACT_KEYS = {
    "timelock": "Timelock",
    "token": "TasteToken",
    "staking": "Staking",
    "works": "Works",
    "distributor": "RewardDistributor",
    "auction": "AuctionHouse",
}


@dataclass(frozen=True)
class DeployParams:
    treasury: str
    token_supply: int = 1_000_000 * 10**18
    reserve_price: int = 10**16
    auction_duration: int = 48 * 3600
    time_buffer: int = 15 * 60
    min_increment_bps: int = 500
    distributor_bps: int = 4500
    operator_bps: int = 1000
    royalty_bps: int = 500
    token_name: str = "Taste"
    token_symbol: str = "TASTE"
    works_name: str = "Tastemaker Works"
    works_symbol: str = "WORK"
    # Roles. None: the deployer (the sending key). On a public chain name a multisig
    # as proposer/executor and a separate guardian.
    proposer: str | None = None
    executor: str | None = None
    guardian: str | None = None
    # Seconds. None: DEV_* on a development chain, PUBLIC_* elsewhere.
    timelock_delay: int | None = None
    challenge_window: int | None = None


DEV_TIMELOCK_DELAY = 5
DEV_CHALLENGE_WINDOW = 5
PUBLIC_TIMELOCK_DELAY = 2 * 24 * 3600
PUBLIC_CHALLENGE_WINDOW = 24 * 3600


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    deployer: str
    operator: str
    treasury: str
    block: int
    addresses: dict[str, str]
    params: dict[str, Any]
    abis: dict[str, list[dict[str, Any]]] = field(repr=False)
    roles: dict[str, Any] = field(default_factory=dict)

    def abi(self, key: str) -> list[dict[str, Any]]:
        return self.abis[key]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None


def deploy_contracts(client: ChainClient, params: DeployParams) -> Deployment:
    """Deploy and wire the contracts from the client's signer.

    The timelock is the admin of every contract; its proposer and executor are
    ``params.proposer`` / ``params.executor`` (default: the deployer). The signer
    becomes the operator (mints winners into the auction house, starts auctions,
    proposes roots); ``params.guardian`` (default: the deployer) may veto roots. The
    deployer keeps no admin role: Works is wired (MINTER_ROLE to the auction house,
    admin to the timelock) and then the deployer renounces its admin role.
    """
    cache = client.chain_dir / "artifacts"
    art = {key: load_artifact(name, cache) for key, name in CONTRACT_KEYS.items()}
    me = client.signer.address
    treasury = Web3.to_checksum_address(params.treasury)
    proposer = Web3.to_checksum_address(params.proposer or me)
    executor = Web3.to_checksum_address(params.executor or proposer)
    guardian = Web3.to_checksum_address(params.guardian or me)
    dev = client.is_dev_chain
    delay = params.timelock_delay
    if delay is None:
        delay = DEV_TIMELOCK_DELAY if dev else PUBLIC_TIMELOCK_DELAY
    window = params.challenge_window
    if window is None:
        window = DEV_CHALLENGE_WINDOW if dev else PUBLIC_CHALLENGE_WINDOW
    start_block = client.block_number()

    def deploy(key: str, *args: Any) -> str:
        return client.deploy_contract(art[key].abi, art[key].bytecode, *args)

    timelock = deploy("timelock", delay, [proposer], [executor])
    token = deploy("token", params.token_name, params.token_symbol, params.token_supply, me)
    staking = deploy("staking", token)
    works = deploy("works", params.works_name, params.works_symbol, treasury, params.royalty_bps)
    distributor = deploy("distributor", me, guardian, timelock, window)
    auction = deploy(
        "auction",
        works,
        distributor,
        treasury,
        me,
        timelock,
        params.reserve_price,
        params.auction_duration,
        params.time_buffer,
        params.min_increment_bps,
        params.distributor_bps,
        params.operator_bps,
    )
    w = client.w3.eth.contract(address=works, abi=art["works"].abi).functions
    admin_role = bytes(32)
    client.transact(w.grantRole(client.role_id("MINTER_ROLE"), auction), label="wire works")
    client.transact(w.grantRole(admin_role, timelock), label="wire works")
    client.transact(w.renounceRole(admin_role, me), label="wire works")
    return Deployment(
        chain_id=client.chain_id,
        deployer=me,
        operator=me,
        treasury=treasury,
        block=start_block,
        addresses={
            "timelock": timelock,
            "token": token,
            "staking": staking,
            "works": works,
            "distributor": distributor,
            "auction": auction,
        },
        params={**asdict(params), "timelock_delay": delay, "challenge_window": window},
        abis={key: a.abi for key, a in art.items()},
        roles={"proposer": proposer, "executor": executor, "guardian": guardian, "operator": me},
    )


# The dev chain's treasury: an account no DEV wallet (1-8) and no deployer (0) uses.
DEV_TREASURY = 9


def params_from_settings(settings: ChainSettings, chain: ChainClient) -> DeployParams:
    """Deployment parameters from the ``TASTEMAKER_CHAIN_*`` settings.

    The treasury defaults to a dev account that is not one of the DEV wallets on a dev
    chain, and to the deployer elsewhere.
    """
    from tastemaker.chain.client import dev_account

    treasury = settings.treasury or (
        dev_account(DEV_TREASURY).address if chain.is_dev_chain else chain.signer.address
    )
    return DeployParams(
        treasury=treasury,
        token_supply=settings.token_supply,
        reserve_price=settings.reserve_price,
        auction_duration=settings.auction_duration,
        time_buffer=settings.time_buffer,
        min_increment_bps=settings.min_increment_bps,
        distributor_bps=settings.distributor_bps,
        operator_bps=settings.operator_bps,
        royalty_bps=settings.royalty_bps,
        proposer=settings.proposer,
        executor=settings.executor,
        guardian=settings.guardian,
        timelock_delay=settings.timelock_delay,
        challenge_window=settings.challenge_window,
    )
