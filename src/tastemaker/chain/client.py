"""``ChainClient``: one interface over the embedded chain and any JSON-RPC node.

Transactions are signed locally (eth-account) in both modes, so the embedded chain
exercises the same path as a real network. Every failure a user can cause becomes a
``ChainError`` subclass naming the cause: unreachable node, wrong chain id, missing
keystore or password, insufficient funds, a revert with its reason.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import Contract, ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception, Web3RPCError
from web3.logs import DISCARD
from web3.middleware import ExtraDataToPOAMiddleware

from tastemaker.chain.deployment import CONTRACT_KEYS, Deployment, DeployParams, deploy_contracts
from tastemaker.chain.errors import (
    ChainError,
    DeploymentMissing,
    InsufficientFunds,
    KeystoreError,
    NodeUnreachable,
    TransactionReverted,
    WrongChain,
)
from tastemaker.chain.node import EmbeddedNode
from tastemaker.chain.settings import ChainSettings
from tastemaker.chain.signed_claims import ClaimAuthorization

log = logging.getLogger(__name__)

# Anvil's well-known development mnemonic: its accounts are pre-funded on the
# embedded chain (and worthless anywhere else).
DEV_MNEMONIC = "test test test test test test test test test test test junk"
GAS_MARGIN = 1.2
STAKE_BATCH = 512  # Staking.MAX_BATCH
RECEIPT_TIMEOUT_S = 120
# The longest challenge window ``await_claimable`` skips on a dev chain.
DEV_WAIT_MAX_S = 3600
T = TypeVar("T")


@functools.cache
def dev_account(index: int) -> LocalAccount:
    """The ``index``-th pre-funded account of the embedded chain."""
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def load_keystore(path: Path | None, password: str | None) -> LocalAccount:
    """Decrypt a keystore JSON file into a signing account."""
    if path is None:
        raise KeystoreError("a JSON-RPC chain needs a key: set TASTEMAKER_CHAIN_KEYSTORE")
    try:
        encrypted = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise KeystoreError(f"keystore file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} is not a readable JSON keystore: {exc}") from None
    if password is None:
        raise KeystoreError(f"keystore {path} needs its password: set TASTEMAKER_CHAIN_PASSWORD")
    try:
        key = Account.decrypt(encrypted, password)
    except ValueError:
        raise KeystoreError(f"wrong password for keystore {path}") from None
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"keystore {path} is malformed (missing {exc})") from None
    return Account.from_key(key)


@dataclass(frozen=True)
class AuctionState:
    token_id: int
    start_time: int
    end_time: int
    reserve_price: int
    time_buffer: int
    min_increment_bps: int
    settled: bool
    bidder: str | None
    amount: int
    distributor_bps: int = 0
    operator_bps: int = 0

    @property
    def exists(self) -> bool:
        return self.end_time != 0

    def min_next_bid(self) -> int:
        """The smallest bid the contract will take now."""
        if self.amount == 0:
            return max(self.reserve_price, 1)
        return max(self.amount + 1, self.amount + self.amount * self.min_increment_bps // 10_000)


@dataclass(frozen=True)
class TxResult:
    tx_hash: str
    gas_used: int
    block_number: int
    receipt: Any


class ChainClient:
    """Reads and transactions the round service needs, over one web3 connection."""

    def __init__(
        self,
        w3: Web3,
        signer: LocalAccount,
        chain_dir: Path,
        *,
        node: EmbeddedNode | None = None,
        expected_chain_id: int | None = None,
        rpc_url: str = "",
    ) -> None:
        self.w3 = w3
        self.signer = signer
        self.chain_dir = chain_dir
        self.node = node
        self.rpc_url = rpc_url
        self.chain_id = self._call_node(lambda: w3.eth.chain_id)
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise WrongChain(
                f"the node at {rpc_url} serves chain id {self.chain_id}, "
                f"but chain id {expected_chain_id} is configured (TASTEMAKER_CHAIN_CHAIN_ID)"
            )
        self._deployment: Deployment | None = Deployment.load(self.deployment_file)
        self._contracts: dict[str, Contract] = {}
        self._dev: bool | None = None
        self._deferred = 0

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def connect(cls, settings: ChainSettings | None = None) -> ChainClient:
        """The embedded chain (started if needed) or the configured JSON-RPC node."""
        settings = settings or ChainSettings()
        if settings.mode == "embedded":
            node = EmbeddedNode(settings.chain_dir, settings.anvil, settings.embedded_chain_id)
            url = node.start()
            try:
                return cls(
                    cls._web3(url),
                    dev_account(0),
                    settings.chain_dir,
                    node=node,
                    expected_chain_id=settings.embedded_chain_id,
                    rpc_url=url,
                )
            except BaseException:
                node.stop()
                raise
        assert settings.rpc_url is not None
        password = settings.password.get_secret_value() if settings.password else None
        signer = load_keystore(settings.keystore, password)
        return cls(
            cls._web3(settings.rpc_url),
            signer,
            settings.chain_dir,
            expected_chain_id=settings.chain_id,
            rpc_url=settings.rpc_url,
        )

    @classmethod
    def reader(cls, rpc_url: str, chain_id: int, contracts: dict[str, Any]) -> ChainClient:
        """A read-only view of the node at ``rpc_url``, at the contracts a public record
        names (``{"block": n, "addresses": {key: address}}``), with the ABIs this
        package ships: what an auditor without the deployment's home checks against."""
        import tempfile

        from tastemaker.chain.artifacts import load_artifact

        try:
            addresses = {k: Web3.to_checksum_address(v) for k, v in contracts["addresses"].items()}
            block = int(contracts["block"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DeploymentMissing(f"the record's contracts are malformed: {exc!r}") from None
        client = cls(
            cls._web3(rpc_url),
            Account.create(),  # never sends: a reader has nothing to sign
            Path(tempfile.mkdtemp(prefix="tastemaker-reader-")),
            expected_chain_id=chain_id,
            rpc_url=rpc_url,
        )
        abis = {key: load_artifact(name, None).abi for key, name in CONTRACT_KEYS.items()}
        client._deployment = Deployment(
            chain_id, "", "", "", block, addresses, {}, {k: abis[k] for k in addresses if k in abis}
        )
        return client

    @staticmethod
    def _web3(url: str) -> Web3:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
        # Harmless on other chains; needed to read blocks of PoA networks.
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return w3

    def close(self) -> None:
        """Stop the embedded node if this client started it (its state is saved)."""
        if self.node is not None:
            self.node.stop()

    def __enter__(self) -> ChainClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def persist(self) -> None:
        """Make what the embedded node holds durable (its state file, written atomically)
        before the caller records anything it read from it; nothing for a JSON-RPC node."""
        if self.node is not None:
            self.node.persist()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Persist once when the block ends instead of after each transaction in it
        (bulk set-up such as onboarding many members: the embedded chain's state file
        is rewritten whole each time). Record nothing from inside it elsewhere."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            if not self._deferred:
                self.persist()

    def _persisted(self) -> None:
        if not self._deferred:
            self.persist()

    @property
    def is_dev_chain(self) -> bool:
        """Whether time travel and free funding are available: the embedded chain, or
        any anvil node reached by URL."""
        if self._dev is None:
            version = self._call_node(lambda: self.w3.client_version)
            self._dev = self.node is not None or str(version).lower().startswith("anvil/")
        return self._dev

    # ----------------------------------------------------------------- deployment

    @property
    def deployment_file(self) -> Path:
        return self.chain_dir / "deployments" / f"{self.chain_id}.json"

    @property
    def deployment(self) -> Deployment:
        """The recorded deployment; ``DeploymentMissing`` if there is none or it is gone."""
        if self._deployment is None:
            raise DeploymentMissing(
                f"no contracts deployed on chain {self.chain_id}: run `tastemaker chain deploy`"
            )
        if "timelock" not in self._deployment.addresses:
            raise DeploymentMissing(
                f"the contracts recorded for chain {self.chain_id} predate roles and the "
                "timelock: deploy the new set with `tastemaker chain deploy --force` "
                "(docs/chain.md, 'Moving to the new contracts')"
            )
        return self._deployment

    def has_deployment(self) -> bool:
        return self._deployment is not None

    def check_deployment(self) -> Deployment:
        """The deployment, after checking its contracts have code on this chain."""
        deployment = self.deployment
        for key in CONTRACT_KEYS:
            address = deployment.addresses[key]
            if not self._call_node(lambda a=address: self.w3.eth.get_code(a)):
                raise DeploymentMissing(
                    f"{key} has no code at {address} on chain {self.chain_id} "
                    f"(was the chain reset?): run `tastemaker chain deploy --force`"
                )
        return deployment

    def deploy(self, params: DeployParams, *, force: bool = False) -> Deployment:
        """Deploy all contracts and record their addresses under the chain folder."""
        if self._deployment is not None and not force:
            raise ChainError(
                f"contracts already deployed on chain {self.chain_id} "
                f"({self.deployment_file}); use --force to deploy a new set"
            )
        self._require_funds(self.signer.address, 0, 15_000_000, "deployment")
        deployment = deploy_contracts(self, params)
        deployment.save(self.deployment_file)
        self._deployment = deployment
        self._contracts.clear()
        return deployment

    def contract(self, key: str) -> Contract:
        """A web3 contract object for one deployed contract (``token``, ``works``, ...)."""
        if key not in self._contracts:
            deployment = self.deployment
            self._contracts[key] = self.w3.eth.contract(
                address=deployment.addresses[key], abi=deployment.abi(key)
            )
        return self._contracts[key]

    # ----------------------------------------------------------------- chain basics

    def block_number(self) -> int:
        return int(self._call_node(lambda: self.w3.eth.block_number))

    def block_timestamp(self, block: int | str = "latest") -> int:
        return int(self._call_node(lambda: self.w3.eth.get_block(block)["timestamp"]))

    def balance(self, address: str) -> int:
        """ETH balance in wei."""
        return int(self._call_node(lambda: self.w3.eth.get_balance(self._checksum(address))))

    def advance_time(self, seconds: int) -> int:
        """Dev chains only: move time forward and mine one block; returns its timestamp."""
        self._require_dev("advancing time")
        self._call_node(lambda: self.w3.provider.make_request("evm_increaseTime", [seconds]))
        self.mine()
        return self.block_timestamp()

    def mine(self, blocks: int = 1) -> int:
        """Dev chains only: mine ``blocks`` empty blocks; returns the new block number."""
        self._require_dev("mining blocks")
        self._call_node(lambda: self.w3.provider.make_request("anvil_mine", [hex(blocks)]))
        self._persisted()
        return self.block_number()

    def fund(self, address: str, wei: int) -> None:
        """Dev chains only: set an account's ETH balance."""
        self._require_dev("funding accounts")
        self._call_node(
            lambda: self.w3.provider.make_request(
                "anvil_setBalance", [self._checksum(address), hex(wei)]
            )
        )
        self._persisted()

    # ----------------------------------------------------------------- token and stake

    def token_balance(self, address: str) -> int:
        return self._read(self.contract("token").functions.balanceOf(self._checksum(address)))

    def transfer_token(
        self, to: str, amount: int, *, sender: LocalAccount | None = None
    ) -> TxResult:
        fn = self.contract("token").functions.transfer(self._checksum(to), amount)
        return self._transact(fn, sender, label="token transfer")

    def stake(self, amount: int, *, sender: LocalAccount | None = None) -> TxResult:
        """Approve (if needed) and stake ``amount`` TASTE from ``sender``."""
        account = sender or self.signer
        staking = self.contract("staking").address
        token = self.contract("token").functions
        if self._read(token.allowance(account.address, staking)) < amount:
            self._transact(token.approve(staking, 2**256 - 1), account, label="approve staking")
        fn = self.contract("staking").functions.stake(amount)
        return self._transact(fn, account, label="stake")

    def unstake(self, amount: int, *, sender: LocalAccount | None = None) -> TxResult:
        fn = self.contract("staking").functions.unstake(amount)
        return self._transact(fn, sender, label="unstake")

    def staked(self, address: str) -> int:
        return self._read(self.contract("staking").functions.staked(self._checksum(address)))

    def stake_at(self, address: str, block: int) -> int:
        fn = self.contract("staking").functions.stake_at(self._checksum(address), block)
        return self._read(fn)

    def min_stake_between(self, address: str, from_block: int, to_block: int) -> int:
        """The minimum stake over [from_block, to_block]: the basis of a round's VP."""
        fn = self.contract("staking").functions.min_stake_between(
            self._checksum(address), from_block, to_block
        )
        return self._read(fn)

    def min_stakes_between(
        self, addresses: Sequence[str], from_block: int, to_block: int
    ) -> dict[str, int]:
        """``min_stake_between`` for many accounts, up to 512 per call.

        A batch that fails (it would not fit the node's call gas cap, say) is split in
        halves; an account whose own read still fails counts as zero stake, with a
        warning, so no single account can stop a round's close.
        """
        staking = self.contract("staking").functions
        result: dict[str, int] = {}

        def read(chunk: list[str]) -> None:
            try:
                values = self._read(
                    staking.min_stakes_between(
                        [self._checksum(a) for a in chunk], from_block, to_block
                    )
                )
            except NodeUnreachable:
                raise
            except ChainError as exc:
                if len(chunk) == 1:
                    log.warning("stake of %s unreadable, counted as 0: %s", chunk[0], exc)
                    result[chunk[0]] = 0
                    return
                half = len(chunk) // 2
                read(chunk[:half])
                read(chunk[half:])
                return
            result.update(zip(chunk, values, strict=True))

        for start in range(0, len(addresses), STAKE_BATCH):
            read(list(addresses[start : start + STAKE_BATCH]))
        return result

    # ----------------------------------------------------------------- works

    def mint_work(self, to: str, content_hash: bytes, uri: str) -> int:
        """Mint the work with ``content_hash`` to ``to``; returns its token id.

        Idempotent: if the hash was minted already (a retried step), returns that token.
        """
        existing = self.token_of_content(content_hash)
        if existing:
            return existing
        house = self.contract("auction")
        if self._checksum(to) != house.address:
            raise ChainError(f"works are minted into the auction house {house.address} only")
        fn = house.functions.mint_work(content_hash, uri)
        result = self._transact(fn, None, label="mint")
        events = (
            self.contract("works")
            .events.WorkMinted()
            .process_receipt(result.receipt, errors=DISCARD)
        )
        return int(events[0]["args"]["token_id"])

    def token_of_content(self, content_hash: bytes) -> int:
        """Token id of a minted content hash, 0 if not minted."""
        return self._read(self.contract("works").functions.token_of_content(content_hash))

    def work_owner(self, token_id: int) -> str:
        return self._read(self.contract("works").functions.ownerOf(token_id))

    def token_uri(self, token_id: int) -> str:
        return self._read(self.contract("works").functions.tokenURI(token_id))

    def works_count(self) -> int:
        return self._read(self.contract("works").functions.totalSupply())

    # ----------------------------------------------------------------- auctions

    def start_auction(self, token_id: int) -> AuctionState:
        """Start the auction of a work held by the auction house (idempotent)."""
        state = self.auction(token_id)
        if not state.exists:
            fn = self.contract("auction").functions.create_auction(token_id)
            self._transact(fn, None, label="start auction")
            state = self.auction(token_id)
        return state

    def auction(self, token_id: int) -> AuctionState:
        raw = self._read(self.contract("auction").functions.auction(token_id))
        start, end, reserve, buffer, increment, settled, bidder, amount, dist, op = raw
        zero = bidder == "0x0000000000000000000000000000000000000000"
        return AuctionState(
            token_id,
            start,
            end,
            reserve,
            buffer,
            increment,
            settled,
            None if zero else bidder,
            amount,
            dist,
            op,
        )

    def bid(self, token_id: int, amount: int, *, sender: LocalAccount | None = None) -> TxResult:
        fn = self.contract("auction").functions.bid(token_id)
        return self._transact(fn, sender, value=amount, label="bid")

    def settle(self, token_id: int, *, sender: LocalAccount | None = None) -> TxResult:
        fn = self.contract("auction").functions.settle(token_id)
        return self._transact(fn, sender, label="settle")

    def pending_withdrawal(self, address: str) -> int:
        fn = self.contract("auction").functions.pending_withdrawals(self._checksum(address))
        return self._read(fn)

    def withdraw(self, *, sender: LocalAccount | None = None) -> TxResult:
        return self._transact(
            self.contract("auction").functions.withdraw(), sender, label="withdraw"
        )

    # ----------------------------------------------------------------- rewards

    def reward_epoch(self) -> int:
        return self._read(self.contract("distributor").functions.epoch())

    def reward_root(self) -> bytes:
        return bytes(self._read(self.contract("distributor").functions.merkle_root()))

    def post_root(self, epoch: int, root: bytes, total: int) -> TxResult | None:
        """Post the cumulative root of ``epoch``; None if that exact root is already posted."""
        if self.reward_epoch() >= epoch:
            posted = bytes(self._read(self.contract("distributor").functions.roots(epoch)))
            if posted == root:
                return None
            raise ChainError(f"epoch {epoch} already has root 0x{posted.hex()}, not 0x{root.hex()}")
        fn = self.contract("distributor").functions.post_root(epoch, root, total)
        return self._transact(fn, None, label="post root")

    def pending_root(self) -> tuple[int, bytes, int] | None:
        """(epoch, root, claimable_at) of the root in its challenge window, if any."""
        d = self.contract("distributor").functions
        root = bytes(self._read(d.pending_root()))
        if root == bytes(32):
            return None
        return self._read(d.epoch()), root, self._read(d.pending_claimable_at())

    def claimable_root(self) -> bytes:
        """The newest root claims are checked against now."""
        return bytes(self._read(self.contract("distributor").functions.claimable_root()))

    def await_claimable(self, epoch: int) -> int | None:
        """After posting ``epoch``: on a development chain whose challenge window is short
        (at most ``DEV_WAIT_MAX_S``, as deployed by default), move time past it and
        activate the root, so claims follow at once; elsewhere do nothing. Returns
        when the root is (or became) claimable, None if it is not pending."""
        pending = self.pending_root()
        if pending is None or pending[0] != epoch:
            return None
        claimable_at = pending[2]
        if not self.is_dev_chain:
            return claimable_at
        now = self.block_timestamp()
        if claimable_at - now > DEV_WAIT_MAX_S:
            return claimable_at  # a dev deployment rehearsing a real window keeps it
        if now < claimable_at:
            self.advance_time(claimable_at - now)
        fn = self.contract("distributor").functions.activate_root()
        self._transact(fn, None, label="activate root")
        return claimable_at

    def veto_root(self, epoch: int, *, sender: LocalAccount | None = None) -> TxResult:
        """Guardian: reject the pending root of ``epoch`` during its challenge window."""
        fn = self.contract("distributor").functions.veto_root(epoch)
        return self._transact(fn, sender, label="veto root")

    def send_eth(self, to: str, wei: int, *, sender: LocalAccount | None = None) -> TxResult:
        """A plain ETH transfer (funding the distributor counts as received for voters)."""
        account = sender or self.signer
        tx = {"to": self._checksum(to), "value": wei}
        return self._transact(_PlainTransfer(self.w3, tx), account, value=wei, label="send ETH")

    def claimed(self, index: int) -> int:
        """The cumulative amount already paid to leaf index ``index``."""
        return self._read(self.contract("distributor").functions.claimed(index))

    def claim(
        self,
        index: int,
        account: str,
        cumulative_amount: int,
        proof: Sequence[bytes],
        *,
        sender: LocalAccount | None = None,
        recipient: str | None = None,
    ) -> TxResult:
        """Claim ``account``'s rewards with its leaf ``(index, account, cumulative_amount)``;
        with ``recipient`` (sent by the account itself) the ETH goes there instead."""
        d = self.contract("distributor").functions
        if recipient is None:
            fn = d.claim(index, self._checksum(account), cumulative_amount, list(proof))
        else:
            fn = d.claim_to(
                index,
                self._checksum(account),
                cumulative_amount,
                list(proof),
                self._checksum(recipient),
            )
        return self._transact(fn, sender, label="claim")

    def claim_signed(
        self,
        index: int,
        proof: Sequence[bytes],
        authorization: ClaimAuthorization,
        *,
        sender: LocalAccount | None = None,
    ) -> TxResult:
        """Submit a claim the leaf's account signed (EIP-712) for a recipient; ``sender``
        (a relayer, by default this client's signer) pays the gas."""
        a = authorization
        fn = self.contract("distributor").functions.claim_with_signature(
            index,
            self._checksum(a.account),
            a.cumulative_amount,
            list(proof),
            self._checksum(a.recipient),
            a.deadline,
            a.signature,
        )
        return self._transact(fn, sender, label="signed claim")

    # ----------------------------------------------------------------- roles

    @staticmethod
    def role_id(name: str) -> bytes:
        """The bytes32 id of a role (``DEFAULT_ADMIN_ROLE`` is zero)."""
        return bytes(32) if name == "DEFAULT_ADMIN_ROLE" else bytes(Web3.keccak(text=name))

    def has_role(self, key: str, role: str, address: str) -> bool:
        fn = self.contract(key).functions.hasRole(self.role_id(role), self._checksum(address))
        return bool(self._read(fn))

    def role_holders(self, key: str) -> dict[str, list[str]]:
        """Who holds each role of contract ``key`` now, from its RoleGranted events."""
        contract = self.contract(key)
        names = {self.role_id(n): n for n in ROLE_NAMES}
        seen: dict[str, set[str]] = {}
        logs = self._call_node(
            lambda: contract.events.RoleGranted().get_logs(from_block=self.deployment.block)
        )
        for entry in logs:
            role = bytes(entry["args"]["role"])
            seen.setdefault(names.get(role, "0x" + role.hex()), set()).add(entry["args"]["account"])
        return {
            name: sorted(a for a in accounts if self.has_role(key, name, a))
            if name in ROLE_NAMES
            else sorted(accounts)
            for name, accounts in seen.items()
        }

    def timelock_delay(self) -> int:
        return self._read(self.contract("timelock").functions.get_minimum_delay())

    def operations(self) -> list[dict[str, Any]]:
        """Calls scheduled on the timelock that are neither executed nor cancelled."""
        timelock = self.contract("timelock")
        since = self.deployment.block
        salts = {
            bytes(e["args"]["id"]): bytes(e["args"]["salt"])
            for e in self._call_node(lambda: timelock.events.CallSalt().get_logs(from_block=since))
        }
        found = []
        for entry in self._call_node(
            lambda: timelock.events.CallScheduled().get_logs(from_block=since)
        ):
            op_id = bytes(entry["args"]["id"])
            if not self._read(timelock.functions.is_operation_pending(op_id)):
                continue
            found.append(
                {
                    "id": op_id,
                    "target": entry["args"]["target"],
                    "amount": int(entry["args"]["amount"]),
                    "payload": bytes(entry["args"]["payload"]),
                    "predecessor": bytes(entry["args"]["predecessor"]),
                    "salt": salts.get(op_id, bytes(32)),
                    "ready_at": self._read(timelock.functions.get_timestamp(op_id)),
                    "call": self.describe_call(entry["args"]["target"], entry["args"]["payload"]),
                }
            )
        return found

    def describe_call(self, target: str, payload: bytes) -> str:
        """``key.function(args)`` for a call to one of the deployed contracts."""
        for key, address in self.deployment.addresses.items():
            if address.lower() == str(target).lower():
                try:
                    fn, args = self.contract(key).decode_function_input(bytes(payload))
                except ValueError:
                    break
                shown = ", ".join(
                    "0x" + v.hex() if isinstance(v, bytes) else str(v) for v in args.values()
                )
                return f"{key}.{fn.fn_name}({shown})"
        return f"{target} 0x{bytes(payload).hex()}"

    def propose(self, key: str, function: str, args: Sequence[str]) -> tuple[bytes, int]:
        """Schedule ``key.function(*args)`` on the timelock with its minimum delay (the
        signer must be a proposer); returns the operation id and when it is ready."""
        contract = self.contract(key)
        abi = [f for f in contract.abi if f.get("type") == "function" and f["name"] == function]
        if not abi:
            raise ChainError(f"{key} has no function {function!r}")
        inputs = abi[0]["inputs"]
        if len(inputs) != len(args):
            names = ", ".join(f"{i['name']} ({i['type']})" for i in inputs)
            raise ChainError(f"{key}.{function} takes {len(inputs)} arguments: {names}")
        values = [_convert(a, i["type"], self) for a, i in zip(args, inputs, strict=True)]
        payload = bytes.fromhex(
            getattr(contract.functions, function)(*values)._encode_transaction_data()[2:]
        )
        salt = os.urandom(32)
        timelock = self.contract("timelock").functions
        delay = self.timelock_delay()
        op_id = bytes(
            self._read(timelock.hash_operation(contract.address, 0, payload, bytes(32), salt))
        )
        fn = timelock.schedule(contract.address, 0, payload, bytes(32), salt, delay)
        self._transact(fn, None, label="propose")
        return op_id, self._read(timelock.get_timestamp(op_id))

    def execute(self, op_id: bytes) -> TxResult:
        """Execute a ready timelock operation (the signer must be an executor)."""
        for op in self.operations():
            if op["id"] == op_id:
                break
        else:
            raise ChainError(f"no pending timelock operation 0x{op_id.hex()}")
        now = self.block_timestamp()
        if now < op["ready_at"]:
            raise ChainError(
                f"operation 0x{op_id.hex()} is ready at chain time {op['ready_at']} "
                f"(in {op['ready_at'] - now} s)"
            )
        fn = self.contract("timelock").functions.execute(
            op["target"], op["amount"], op["payload"], op["predecessor"], op["salt"]
        )
        return self._transact(fn, None, label="execute")

    def transact(self, fn: Any, *, sender: LocalAccount | None = None, label: str) -> TxResult:
        """Send any prepared contract call (a ``ContractFunction``)."""
        return self._transact(fn, sender, label=label)

    # ----------------------------------------------------------------- plumbing

    def _require_dev(self, what: str) -> None:
        if not self.is_dev_chain:
            raise ChainError(f"{what} is only possible on a development chain (anvil)")

    @staticmethod
    def _checksum(address: str) -> str:
        try:
            return Web3.to_checksum_address(address)
        except ValueError:
            raise ChainError(f"not an Ethereum address: {address!r}") from None

    def _call_node(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except requests.exceptions.ConnectionError:
            raise NodeUnreachable(f"cannot reach the chain node at {self.rpc_url}") from None
        except requests.exceptions.Timeout:
            raise NodeUnreachable(f"the chain node at {self.rpc_url} timed out") from None
        except requests.exceptions.RequestException as exc:
            # A malformed URL, an HTTP error status, or an answer that is not JSON.
            raise NodeUnreachable(
                f"cannot use {self.rpc_url!r} as a chain node: {type(exc).__name__}: {exc}"
            ) from None

    def _read(self, fn: ContractFunction) -> Any:
        try:
            return self._call_node(fn.call)
        except ContractLogicError as exc:
            raise TransactionReverted(f"{fn.fn_name} reverted: {_reason(exc)}") from None

    def _require_funds(self, address: str, value: int, gas: int, label: str) -> None:
        price = self._call_node(lambda: self.w3.eth.gas_price)
        needed = value + gas * price
        have = self.balance(address)
        if have < needed:
            raise InsufficientFunds(
                f"{address} has {have / 1e18:.6f} ETH but {label} needs about "
                f"{needed / 1e18:.6f} ETH (value plus gas)"
            )

    def deploy_contract(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> str:
        """Deploy one contract from the signer; returns its address."""
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        result = self._transact(factory.constructor(*args), None, label="deploy")
        return str(result.receipt["contractAddress"])

    def _transact(
        self, fn: Any, sender: LocalAccount | None, *, value: int = 0, label: str
    ) -> TxResult:
        account = sender or self.signer
        if self.balance(account.address) < value:
            self._require_funds(account.address, value, 0, label)
        tx_base = {"from": account.address, "value": value, "chainId": self.chain_id}
        try:
            gas = self._call_node(lambda: fn.estimate_gas(tx_base, block_identifier="pending"))
        except ContractLogicError as exc:
            raise TransactionReverted(f"{label} reverted: {_reason(exc)}") from None
        except Web3RPCError as exc:
            raise self._rpc_error(exc, account.address, label) from None
        gas = int(gas * GAS_MARGIN)
        self._require_funds(account.address, value, gas, label)
        try:
            tx = fn.build_transaction(
                {
                    **tx_base,
                    "gas": gas,
                    "nonce": self._call_node(
                        lambda: self.w3.eth.get_transaction_count(account.address, "pending")
                    ),
                }
            )
            signed = account.sign_transaction(tx)
            tx_hash = self._call_node(
                lambda: self.w3.eth.send_raw_transaction(signed.raw_transaction)
            )
            receipt = self._call_node(
                lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
            )
        except ContractLogicError as exc:
            raise TransactionReverted(f"{label} reverted: {_reason(exc)}") from None
        except Web3RPCError as exc:
            raise self._rpc_error(exc, account.address, label) from None
        except TimeExhausted:
            raise ChainError(f"{label}: no receipt after {RECEIPT_TIMEOUT_S}s") from None
        except Web3Exception as exc:
            raise ChainError(f"{label} failed: {exc}") from None
        if receipt["status"] != 1:
            raise TransactionReverted(f"{label} reverted in block {receipt['blockNumber']}")
        self._persisted()  # on disk before any caller records it (docs/decisions/0050)
        log.debug("%s: gas %s", label, receipt["gasUsed"])
        return TxResult(
            "0x" + bytes(tx_hash).hex(),
            int(receipt["gasUsed"]),
            int(receipt["blockNumber"]),
            receipt,
        )

    def _rpc_error(self, exc: Web3RPCError, address: str, label: str) -> ChainError:
        message = str(getattr(exc, "message", None) or exc)
        if "insufficient funds" in message.lower():
            return InsufficientFunds(f"{address} cannot pay for {label}: {message}")
        if "revert" in message.lower():
            return TransactionReverted(f"{label} reverted: {message}")
        return ChainError(f"{label} failed: {message}")


class _PlainTransfer:
    """A plain value transfer with the two methods ``_transact`` calls on a contract call."""

    def __init__(self, w3: Web3, tx: dict[str, Any]) -> None:
        self.w3, self.tx = w3, tx

    def estimate_gas(self, tx_base: dict[str, Any], block_identifier: str = "pending") -> int:
        return int(self.w3.eth.estimate_gas({**tx_base, **self.tx}, block_identifier))

    def build_transaction(self, tx: dict[str, Any]) -> dict[str, Any]:
        return {**tx, **self.tx, "gasPrice": self.w3.eth.gas_price}


ROLE_NAMES = (
    "DEFAULT_ADMIN_ROLE",
    "OPERATOR_ROLE",
    "GUARDIAN_ROLE",
    "MINTER_ROLE",
    "PROPOSER_ROLE",
    "EXECUTOR_ROLE",
    "CANCELLER_ROLE",
)


def _convert(text: str, abi_type: str, client: ChainClient) -> Any:
    """A command-line argument as the ABI type wants it (roles by name for bytes32)."""
    try:
        if abi_type.startswith(("uint", "int")):
            return int(text, 0)
        if abi_type == "address":
            key = client.deployment.addresses.get(text)
            return Web3.to_checksum_address(key or text)
        if abi_type == "bool":
            return text.lower() in ("1", "true", "yes")
        if abi_type == "bytes32":
            if text in ROLE_NAMES:
                return client.role_id(text)
            return bytes.fromhex(text.removeprefix("0x")).rjust(32, b"\0")
        if abi_type.startswith("string"):
            return text
    except ValueError:
        raise ChainError(f"{text!r} is not a valid {abi_type}") from None
    raise ChainError(f"arguments of type {abi_type} are not supported on the command line")


def _reason(exc: ContractLogicError) -> str:
    message = str(exc.message if getattr(exc, "message", None) else exc)
    reason = message.removeprefix("execution reverted: ").removeprefix("execution reverted")
    return reason.strip() or "no reason given"
