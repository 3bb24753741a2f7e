"""ChainClient against real anvil processes over JSON-RPC: deployment, a full
auction, rewards, state surviving a restart, and the errors a user can cause."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.deployment import DeployParams
from tastemaker.chain.errors import (
    DeploymentMissing,
    InsufficientFunds,
    KeystoreError,
    NodeUnreachable,
    TransactionReverted,
    WrongChain,
)
from tastemaker.chain.node import EmbeddedNode, _pid_alive, find_anvil
from tastemaker.chain.settings import ChainSettings
from tastemaker.chain.signed_claims import sign_claim
from tastemaker.core.merkle import RewardTree, assign_indexes

ANVIL = find_anvil(None, Path(os.environ.get("TASTEMAKER_HOME", ".tastemaker")) / "chain" / "node")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        ANVIL is None,
        reason="anvil is not installed: `make install` puts it in .venv/node "
        "(npm package @foundry-rs/anvil-linux-amd64)",
    ),
]
PASSWORD = "correct horse"


def _settings(home: Path, **kw) -> ChainSettings:
    return ChainSettings(home=home, anvil=ANVIL, **kw)


def _with(settings: ChainSettings, **change) -> ChainSettings:
    return ChainSettings.model_validate({**settings.model_dump(), **change})


def _params(**kw) -> DeployParams:
    return DeployParams(treasury=dev_account(1).address, auction_duration=3600, **kw)


@pytest.fixture
def node(tmp_path):
    """A separate anvil process: the 'any JSON-RPC node' case."""
    with EmbeddedNode(tmp_path / "node", ANVIL) as n:
        yield n


def _keystore(tmp_path: Path, key: bytes) -> Path:
    path = tmp_path / f"key-{Account.from_key(key).address}.json"
    # Light scrypt settings: the default costs about a second per decryption.
    path.write_text(json.dumps(Account.encrypt(key, PASSWORD, iterations=2**10)))
    return path


@pytest.fixture
def rpc_settings(tmp_path, node):
    return _settings(
        tmp_path / "home",
        rpc_url=node.url,
        keystore=_keystore(tmp_path, dev_account(0).key),
        password=PASSWORD,
        chain_id=31337,
    )


def test_deploy_and_run_an_auction_over_json_rpc(rpc_settings, node):
    alice, bob = dev_account(3), dev_account(4)
    with ChainClient.connect(rpc_settings) as client:
        assert client.node is None
        deployment = client.deploy(_params())
        assert client.deployment_file.exists()
        client.check_deployment()

        token_id = client.mint_work(deployment.addresses["auction"], b"\x07" * 32, "ipfs://m")
        assert (
            client.mint_work(deployment.addresses["auction"], b"\x07" * 32, "ipfs://m") == token_id
        )
        state = client.start_auction(token_id)
        assert state.exists and not state.settled
        client.bid(token_id, state.min_next_bid(), sender=alice)
        alice_after_bid = client.balance(alice.address)
        client.bid(token_id, client.auction(token_id).min_next_bid(), sender=bob)
        assert client.balance(alice.address) == alice_after_bid + state.min_next_bid()
        with pytest.raises(TransactionReverted, match="auction: not ended"):
            client.settle(token_id)

    with ChainClient.connect(rpc_settings) as client:
        assert client.is_dev_chain  # an anvil node: time travel is allowed
        client.advance_time(3601)

    with ChainClient.connect(rpc_settings) as client:
        winner_bid = client.auction(token_id).amount
        treasury_before = client.balance(dev_account(1).address)
        client.settle(token_id)
        assert client.work_owner(token_id) == bob.address
        assert client.auction(token_id).settled
        distributor = client.deployment.addresses["distributor"]
        assert client.balance(distributor) == winner_bid * 4500 // 10_000
        assert client.balance(dev_account(1).address) > treasury_before

        # Rewards: post a cumulative root and claim through the client.
        members = {dev_account(5).address: 10**15, dev_account(6).address: 2 * 10**15}
        tree = RewardTree.build(members, assign_indexes({}, members))
        client.post_root(1, tree.root, tree.total)
        assert client.post_root(1, tree.root, tree.total) is None  # a retried post is a no-op
        account = dev_account(6).address
        index = tree.index_of(account)
        with pytest.raises(TransactionReverted, match="root not yet claimable"):
            client.claim(index, account, members[account], tree.proof(account))
        assert client.await_claimable(1) is not None  # a dev chain: time moves on
        before = client.balance(account)
        client.claim(index, account, members[account], tree.proof(account))
        assert client.balance(account) == before + 2 * 10**15
        assert client.claimed(index) == 2 * 10**15
        assert client.claimed(index ^ 1) == 0  # the neighbour in the same word
        with pytest.raises(TransactionReverted, match="nothing to claim"):
            client.claim(index, account, members[account], tree.proof(account))

        # A signed claim (EIP-712, eth-account) sent by a relayer pays the signed recipient.
        signer, cold, relayer = dev_account(5), Account.create().address, dev_account(7)
        auth = sign_claim(
            signer, client.chain_id, distributor, cold, 10**15, client.block_timestamp() + 600
        )
        with pytest.raises(TransactionReverted, match="bad signature"):
            forged = sign_claim(relayer, client.chain_id, distributor, cold, 10**15, auth.deadline)
            client.claim_signed(
                tree.index_of(signer.address),
                tree.proof(signer.address),
                replace(forged, account=signer.address),
                sender=relayer,
            )
        client.claim_signed(
            tree.index_of(signer.address), tree.proof(signer.address), auth, sender=relayer
        )
        assert client.balance(cold) == 10**15
        with pytest.raises(TransactionReverted, match="nothing to claim"):  # replayed
            client.claim_signed(
                tree.index_of(signer.address), tree.proof(signer.address), auth, sender=relayer
            )


def test_embedded_chain_state_survives_restart(tmp_path):
    settings = _settings(tmp_path / "home")
    voter, bidder = dev_account(2), dev_account(3)
    members = {dev_account(5).address: 10**15}
    tree = RewardTree.build(members, assign_indexes({}, members))
    with ChainClient.connect(settings) as client:
        assert client.is_dev_chain and client.node.owns_process
        deployment = client.deploy(_params())
        client.transfer_token(voter.address, 10**21)
        client.stake(10**20, sender=voter)
        # A stake in the next block must not reuse the same-block estimate (regression).
        client.stake(2 * 10**20, sender=voter)
        stake_block = client.block_number()
        client.mine(2)
        client.unstake(10**20, sender=voter)
        token_id = client.mint_work(deployment.addresses["auction"], b"\x09" * 32, "ipfs://w")
        client.start_auction(token_id)
        client.bid(token_id, 5 * 10**17, sender=bidder)
        client.send_eth(deployment.addresses["distributor"], tree.total)
        client.post_root(1, tree.root, tree.total)
        before = {
            "block": client.block_number(),
            "auction": client.auction(token_id),
            "root": client.reward_root(),
        }
    assert not (tmp_path / "home" / "chain" / "node.json").exists()  # stopped

    with ChainClient.connect(settings) as client:
        assert client.node.owns_process  # a fresh process, same state
        client.check_deployment()
        assert client.block_number() == before["block"]
        assert client.staked(voter.address) == 2 * 10**20
        assert client.stake_at(voter.address, stake_block) == 3 * 10**20
        assert client.min_stake_between(voter.address, stake_block, client.block_number()) == (
            2 * 10**20
        )
        nobody = "0x" + "00" * 19 + "01"
        window = (stake_block, client.block_number())
        assert client.min_stakes_between([voter.address, nobody], *window) == {
            voter.address: 2 * 10**20,
            nobody: 0,
        }
        assert client.work_owner(token_id) == deployment.addresses["auction"]
        assert client.token_of_content(b"\x09" * 32) == token_id
        assert client.auction(token_id) == before["auction"]
        assert client.reward_root() == before["root"] and client.reward_epoch() == 1
        client.advance_time(3601)
        client.settle(token_id)
        assert client.work_owner(token_id) == bidder.address


def test_a_second_client_attaches_to_the_running_node(tmp_path):
    settings = _settings(tmp_path / "home")
    with ChainClient.connect(settings) as first, ChainClient.connect(settings) as second:
        assert second.rpc_url == first.rpc_url
        assert not second.node.owns_process


# ------------------------------------------------------------------ user errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_node_is_named(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}"
    settings = _settings(
        tmp_path, rpc_url=url, keystore=_keystore(tmp_path, dev_account(0).key), password=PASSWORD
    )
    with pytest.raises(NodeUnreachable, match=f"cannot reach the chain node at {url}"):
        ChainClient.connect(settings)


@pytest.mark.parametrize("url", ["not-a-url", "http://"])
def test_malformed_url_is_named(tmp_path, rpc_settings, url):
    with pytest.raises(NodeUnreachable, match="as a chain node"):
        ChainClient.connect(_with(rpc_settings, rpc_url=url))


def test_wrong_chain_id_is_refused(rpc_settings):
    settings = _with(rpc_settings, chain_id=1)
    with pytest.raises(WrongChain, match="serves chain id 31337, but chain id 1"):
        ChainClient.connect(settings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"keystore": None}, "set TASTEMAKER_CHAIN_KEYSTORE"),
        ({"keystore": Path("/nonexistent/key.json")}, "keystore file not found"),
        ({"password": None}, "set TASTEMAKER_CHAIN_PASSWORD"),
        ({"password": "wrong"}, "wrong password"),
    ],
)
def test_keystore_problems_are_named(rpc_settings, change, message):
    settings = _with(rpc_settings, **change)
    with pytest.raises(KeystoreError, match=message):
        ChainClient.connect(settings)


def test_insufficient_funds_and_reverts_are_named(tmp_path, rpc_settings):
    poor_key = os.urandom(32)
    poor = _with(rpc_settings, keystore=_keystore(tmp_path, poor_key))
    with (
        ChainClient.connect(poor) as client,
        pytest.raises(InsufficientFunds, match=r"has 0\.000000 ETH"),
    ):
        client.deploy(_params())
    with ChainClient.connect(rpc_settings) as client:
        with pytest.raises(DeploymentMissing, match="tastemaker chain deploy"):
            client.check_deployment()
        deployment = client.deploy(_params())
        token_id = client.mint_work(deployment.addresses["auction"], b"\x01" * 32, "ipfs://x")
        client.start_auction(token_id)
        with pytest.raises(TransactionReverted, match="bid reverted: auction: below reserve"):
            client.bid(token_id, 1)
        with pytest.raises(InsufficientFunds, match="needs about"):
            client.bid(token_id, 10**30)
        with pytest.raises(TransactionReverted, match="claim reverted: distributor: invalid"):
            client.claim(0, dev_account(5).address, 1, [])


def test_reset_chain_is_detected(tmp_path):
    settings = _settings(tmp_path / "home")
    with ChainClient.connect(settings) as client:
        client.deploy(_params())
    (tmp_path / "home" / "chain" / "state.json").unlink()
    with ChainClient.connect(settings) as client, pytest.raises(DeploymentMissing, match="reset"):
        client.check_deployment()


def test_a_node_left_running_can_be_stopped(tmp_path):
    # A process that starts the node and exits without stopping it leaves an orphan.
    chain_dir = tmp_path / "home" / "chain"
    script = (
        "import sys; from pathlib import Path; from tastemaker.chain.node import EmbeddedNode; "
        "EmbeddedNode(Path(sys.argv[1]), Path(sys.argv[2])).start()"
    )
    subprocess.run([sys.executable, "-c", script, str(chain_dir), str(ANVIL)], check=True)
    pid = json.loads((chain_dir / "node.json").read_text())["pid"]
    assert EmbeddedNode(chain_dir, ANVIL).stop_running()
    assert (chain_dir / "state.json").exists()
    assert not (chain_dir / "node.json").exists()
    assert not EmbeddedNode(chain_dir, ANVIL).stop_running()
    assert not _pid_alive(pid)  # exited (perhaps not yet reaped by init)
