"""With only the operator's hot key, every way the audit of issue 11 found to steal or
to change the rules is refused on chain. Each test here fails against the contracts
before issue 11 (ownable, operator-posted roots claimable at once, mintable TASTE)."""

import boa
import pytest
from eth_utils import keccak

from tastemaker.core.merkle import RewardTree

from .support import ADMIN_ROLE, DURATION, TIMELOCK_DELAY, WINDOW, role, start_auction

MISSING_ROLE = "access_control: account is missing role"


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _fund(s, wei):
    payer = boa.env.generate_address("payer")
    boa.env.set_balance(payer, wei)
    boa.env.raw_call(s.distributor.address, sender=payer, value=wei)


def test_operator_cannot_mint_taste(system):
    supply = system.token.totalSupply()
    calldata = (
        _selector("mint(address,uint256)")
        + bytes(12)
        + bytes.fromhex(system.operator[2:])
        + (10**27).to_bytes(32, "big")
    )
    from eth.exceptions import Revert

    with pytest.raises(Revert):  # no such function (and no fallback)
        boa.env.raw_call(system.token.address, sender=system.operator, data=calldata)
    assert not hasattr(system.token, "mint") and not hasattr(system.token, "set_minter")
    assert system.token.totalSupply() == supply


def test_operator_cannot_post_a_root_beyond_the_funds(system):
    _fund(system, 10**18)
    thief = {system.operator: 10**18 + 1}
    tree = RewardTree.build(thief, {system.operator: 0})
    with boa.env.prank(system.operator), boa.reverts("distributor: total exceeds funds"):
        system.distributor.post_root(1, tree.root, tree.total)


def test_operator_cannot_claim_before_the_challenge_window(system):
    _fund(system, 10**18)
    tree = RewardTree.build({system.operator: 10**18}, {system.operator: 0})
    with boa.env.prank(system.operator):
        system.distributor.post_root(1, tree.root, tree.total)
        boa.env.time_travel(seconds=WINDOW - 1)
        with boa.reverts("distributor: root not yet claimable"):
            system.distributor.claim(0, system.operator, 10**18, tree.proof(system.operator))
    # ... which leaves the guardian time to veto it.
    with boa.env.prank(system.guardian):
        system.distributor.veto_root(1)
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("distributor: invalid proof"):
        system.distributor.claim(0, system.operator, 10**18, tree.proof(system.operator))


def test_operator_cannot_change_a_live_auctions_split_or_reserve(system, auctioned):
    with boa.env.prank(system.operator):
        with boa.reverts(MISSING_ROLE):
            system.auction.set_shares(0, 10_000)
        with boa.reverts(MISSING_ROLE):
            system.auction.set_params(10**24, DURATION, 0, 0)
        with boa.reverts(MISSING_ROLE):
            system.auction.set_payees(system.operator, system.operator)
    state = system.auction.auction(auctioned)
    assert (state.distributor_bps, state.operator_bps) == (4500, 1000)


def test_operator_cannot_change_a_sold_works_uri(system, auctioned, funded):
    bidder = funded("bidder")
    with boa.env.prank(bidder):
        system.auction.bid(auctioned, value=10**18)
    boa.env.time_travel(seconds=DURATION)
    system.auction.settle(auctioned)
    with boa.env.prank(system.operator), boa.reverts(MISSING_ROLE):
        system.works.set_token_uri(auctioned, "ipfs://rug")
    with boa.env.prank(system.timelock.address), boa.reverts("works: metadata frozen"):
        system.works.set_token_uri(auctioned, "ipfs://rug")  # not even the timelock
    assert system.works.tokenURI(auctioned) == "ipfs://work"


@pytest.mark.parametrize(
    ("target", "fn", "args"),
    [
        ("auction", "set_params", (1, DURATION, 0, 0)),
        ("auction", "set_shares", (0, 10_000)),
        ("distributor", "set_challenge_window", (0,)),
        ("works", "set_default_royalty", ("operator", 1000)),
        ("timelock", "update_delay", (0,)),
    ],
)
def test_operator_cannot_change_a_parameter_without_the_timelock(system, target, fn, args):
    contract = getattr(system, target)
    args = tuple(system.operator if a == "operator" else a for a in args)
    with boa.env.prank(system.operator), boa.reverts():
        getattr(contract, fn)(*args)
    payload = getattr(contract, fn).prepare_calldata(*args)
    with boa.env.prank(system.operator), boa.reverts(MISSING_ROLE):  # not a proposer
        system.timelock.schedule(contract.address, 0, payload, bytes(32), bytes(32), TIMELOCK_DELAY)
    # Even the proposer must wait out the delay.
    with boa.env.prank(system.proposer):
        with boa.reverts("timelock_controller: insufficient delay"):
            system.timelock.schedule(contract.address, 0, payload, bytes(32), bytes(32), 60)
        system.timelock.schedule(contract.address, 0, payload, bytes(32), bytes(32), TIMELOCK_DELAY)
        boa.env.time_travel(seconds=TIMELOCK_DELAY - 60)
        with boa.reverts("timelock_controller: operation is not ready"):
            system.timelock.execute(contract.address, 0, payload, bytes(32), bytes(32))


@pytest.mark.parametrize("target", ["auction", "distributor", "works", "timelock"])
def test_operator_cannot_take_the_admin_role(system, target):
    contract = getattr(system, target)
    with boa.env.prank(system.operator), boa.reverts(MISSING_ROLE):
        contract.grantRole(ADMIN_ROLE, system.operator)
    assert not contract.hasRole(ADMIN_ROLE, system.operator)
    assert contract.hasRole(ADMIN_ROLE, system.timelock.address)


def test_operator_cannot_mint_works_to_itself_or_grant_itself_minting(system):
    with boa.env.prank(system.operator):
        with boa.reverts("works: caller is not the minter"):
            system.works.mint(system.operator, b"\x07" * 32, "ipfs://x")
        with boa.reverts(MISSING_ROLE):
            system.works.grantRole(role("MINTER_ROLE"), system.operator)


def test_the_deployer_keeps_no_role(system):
    token_id = start_auction(system, b"\x05" * 32)
    assert token_id == 1
    for contract in (system.auction, system.distributor, system.works, system.timelock):
        admins = [a for a in (system.operator, system.guardian) if contract.hasRole(ADMIN_ROLE, a)]
        assert admins == []
