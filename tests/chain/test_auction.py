"""AuctionHouse: reserve, increments, anti-sniping, settlement split, hostile bidders."""

import boa
import pytest

from .support import (
    BUFFER,
    DISTRIBUTOR_BPS,
    DURATION,
    OPERATOR_BPS,
    RESERVE,
    deployer,
    mint_to_auction_house,
    start_auction,
    through_timelock,
)


def _bid(system, bidder, token_id, amount):
    with boa.env.prank(bidder):
        system.auction.bid(token_id, value=amount)


def test_first_bid_must_meet_reserve(system, auctioned, funded):
    alice = funded("alice")
    with boa.env.prank(alice), boa.reverts("auction: below reserve price"):
        system.auction.bid(auctioned, value=RESERVE - 1)
    _bid(system, alice, auctioned, RESERVE)
    state = system.auction.auction(auctioned)
    assert (state.bidder, state.amount) == (alice, RESERVE)


def test_outbid_needs_the_minimum_increment_and_refunds(system, auctioned, funded):
    alice, bob = funded("alice"), funded("bob")
    _bid(system, alice, auctioned, 10**18)
    with boa.env.prank(bob), boa.reverts("auction: bid too low"):
        system.auction.bid(auctioned, value=10**18 + 10**18 * 5 // 100 - 1)
    before = boa.env.get_balance(alice)
    _bid(system, bob, auctioned, 105 * 10**16)
    assert boa.env.get_balance(alice) == before + 10**18
    assert system.auction.auction(auctioned).bidder == bob
    assert boa.env.get_balance(system.auction.address) == 105 * 10**16


def test_late_bid_extends_the_end(system, auctioned, funded):
    alice = funded("alice")
    end = system.auction.auction(auctioned).end_time
    boa.env.time_travel(seconds=DURATION - 60)
    _bid(system, alice, auctioned, RESERVE)
    new_end = system.auction.auction(auctioned).end_time
    assert new_end > end
    assert new_end == boa.env.evm.patch.timestamp + BUFFER


def test_no_bids_after_the_end_and_no_settle_before(system, auctioned, funded):
    alice = funded("alice")
    with boa.reverts("auction: not ended"):
        system.auction.settle(auctioned)
    boa.env.time_travel(seconds=DURATION)
    with boa.env.prank(alice), boa.reverts("auction: ended"):
        system.auction.bid(auctioned, value=RESERVE)


def test_anyone_settles_and_proceeds_are_split(system, auctioned, funded):
    alice, stranger = funded("alice"), funded("stranger")
    _bid(system, alice, auctioned, 10**18)
    boa.env.time_travel(seconds=DURATION)
    treasury_before = boa.env.get_balance(system.treasury)
    operator_before = boa.env.get_balance(system.operator)
    with boa.env.prank(stranger):
        system.auction.settle(auctioned)
    to_distributor = 10**18 * DISTRIBUTOR_BPS // 10_000
    to_operator = 10**18 * OPERATOR_BPS // 10_000
    assert system.works.ownerOf(auctioned) == alice
    assert boa.env.get_balance(system.distributor.address) == to_distributor
    assert boa.env.get_balance(system.operator) == operator_before + to_operator
    assert boa.env.get_balance(system.treasury) == (
        treasury_before + 10**18 - to_distributor - to_operator
    )
    assert boa.env.get_balance(system.auction.address) == 0
    with boa.reverts("auction: already settled"):
        system.auction.settle(auctioned)


def test_unsold_work_goes_to_the_treasury(system, auctioned):
    boa.env.time_travel(seconds=DURATION)
    system.auction.settle(auctioned)
    assert system.works.ownerOf(auctioned) == system.treasury


def test_only_the_operator_starts_auctions_of_held_works(system, funded):
    stranger = funded("stranger")
    held = mint_to_auction_house(system, b"\x02" * 32, "ipfs://a")
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        system.auction.create_auction(held)
    with boa.env.prank(system.operator):
        with boa.reverts("erc721: invalid token ID"):
            system.auction.create_auction(held + 1)
        system.auction.create_auction(held)
        with boa.reverts("auction: already created"):
            system.auction.create_auction(held)


@pytest.mark.parametrize("mode", [1, 2], ids=["reverts", "burns-gas"])
def test_griefing_bidder_cannot_block_the_next_bid(system, auctioned, funded, mode):
    griefer = deployer("GriefingBidder").deploy(system.auction.address, mode)
    boa.env.set_balance(griefer.address, 0)
    _bid(system, funded("funder"), auctioned, RESERVE)  # griefer bids over someone
    griefer.bid(auctioned, value=10**18, sender=funded("griefer-owner"))
    assert system.auction.auction(auctioned).bidder == griefer.address

    bob = funded("bob")
    with boa.env.prank(bob):
        system.auction.bid(auctioned, value=2 * 10**18)
    gas = system.auction._computation.get_gas_used()
    assert gas < 150_000  # the refund call is capped; the bid does not run out of gas
    assert system.auction.auction(auctioned).bidder == bob
    # The refused refund waits for the griefer to pull it.
    assert system.auction.pending_withdrawals(griefer.address) == 10**18
    assert boa.env.get_balance(system.auction.address) == 3 * 10**18

    receiver = funded("receiver", 0)
    griefer.withdraw_to(receiver)
    assert boa.env.get_balance(receiver) == 10**18
    assert system.auction.pending_withdrawals(griefer.address) == 0
    assert boa.env.get_balance(system.auction.address) == 2 * 10**18


def test_hostile_treasury_cannot_block_settlement(funded):
    with boa.env.anchor():
        from .support import deploy_system

        s = deploy_system()
        griefer = deployer("GriefingBidder").deploy(s.auction.address, 1)
        through_timelock(s, s.auction, "set_payees", s.operator, griefer.address)
        token_id = start_auction(s)
        _bid(s, funded("alice"), token_id, 10**18)
        boa.env.time_travel(seconds=DURATION)
        s.auction.settle(token_id)
        treasury_share = 10**18 - 10**18 * (DISTRIBUTOR_BPS + OPERATOR_BPS) // 10_000
        assert s.auction.pending_withdrawals(griefer.address) == treasury_share


def test_admin_only_settings_are_bounded(system, funded):
    with boa.env.prank(funded("stranger")), boa.reverts("access_control: account is missing role"):
        system.auction.set_shares(1, 1)
    with boa.env.prank(system.timelock.address), boa.reverts("auction: shares exceed 100%"):
        system.auction.set_shares(9_000, 1_001)


def test_an_auction_keeps_the_split_and_reserve_it_was_created_with(system, auctioned, funded):
    # As if a timelocked change were executed while the auction runs.
    with boa.env.prank(system.timelock.address):
        system.auction.set_shares(0, 9_000)
        system.auction.set_params(10**20, DURATION, BUFFER, 500)
    state = system.auction.auction(auctioned)
    assert (state.reserve_price, state.distributor_bps, state.operator_bps) == (
        RESERVE,
        DISTRIBUTOR_BPS,
        OPERATOR_BPS,
    )
    _bid(system, funded("alice"), auctioned, 10**18)
    boa.env.time_travel(seconds=DURATION)
    before = boa.env.get_balance(system.distributor.address)
    system.auction.settle(auctioned)
    assert (
        boa.env.get_balance(system.distributor.address) - before
        == 10**18 * DISTRIBUTOR_BPS // 10_000
    )
    # The next auction uses the new parameters.
    later = start_auction(system, b"\x09" * 32)
    state = system.auction.auction(later)
    assert (state.reserve_price, state.distributor_bps, state.operator_bps) == (10**20, 0, 9_000)
