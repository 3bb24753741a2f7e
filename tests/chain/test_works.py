"""Works: minted only by the auction house (into itself), one token per content hash,
metadata that freezes when the auction starts, royalties changed by the timelock."""

import boa
import pytest

from .support import mint_to_auction_house, through_timelock

CONTENT = bytes.fromhex("ab" * 32)


def test_operator_mints_into_the_auction_house(system):
    token_id = mint_to_auction_house(system, CONTENT, "ipfs://meta")
    assert token_id == 1
    assert system.works.ownerOf(token_id) == system.auction.address
    assert system.works.tokenURI(token_id) == "ipfs://meta"
    assert system.works.content_hash(token_id) == CONTENT
    assert system.works.token_of_content(CONTENT) == token_id
    assert system.works.totalSupply() == 1


def test_only_the_auction_house_mints(system, funded):
    stranger = funded("stranger")
    for who in (stranger, system.operator):
        with boa.env.prank(who), boa.reverts("works: caller is not the minter"):
            system.works.mint(who, CONTENT, "ipfs://meta")
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        system.auction.mint_work(CONTENT, "ipfs://meta")


def test_a_content_hash_is_minted_once(system):
    mint_to_auction_house(system, CONTENT, "ipfs://a")
    with boa.env.prank(system.operator):
        with boa.reverts("works: content already minted"):
            system.auction.mint_work(CONTENT, "ipfs://b")
        with boa.reverts("works: empty content hash"):
            system.auction.mint_work(b"\x00" * 32, "ipfs://c")


def test_metadata_changes_through_the_timelock_until_the_auction_starts(system):
    token_id = mint_to_auction_house(system, CONTENT, "ipfs://a")
    with boa.env.prank(system.timelock.address):  # as a timelocked call executes it
        system.works.set_token_uri(token_id, "ipfs://b")
    assert any(type(e).__name__ == "MetadataUpdate" for e in system.works.get_logs())
    assert system.works.tokenURI(token_id) == "ipfs://b"
    with boa.env.prank(system.operator):
        system.auction.create_auction(token_id)
    assert system.works.metadata_frozen(token_id)
    with boa.reverts("works: metadata frozen"):  # bubbled up by the timelock
        through_timelock(system, system.works, "set_token_uri", token_id, "ipfs://c")
    assert system.works.tokenURI(token_id) == "ipfs://b"


def test_royalty_changes_through_the_timelock_with_an_event(system, funded):
    assert system.works.royaltyInfo(1, 10_000) == (system.treasury, 500)
    receiver = funded("receiver")
    through_timelock(system, system.works, "set_default_royalty", receiver, 250)
    assert system.works.royaltyInfo(1, 10_000) == (receiver, 250)


@pytest.mark.parametrize(
    ("interface", "supported"),
    [
        ("80ac58cd", True),
        ("5b5e139f", True),
        ("49064906", True),
        ("2a55205a", True),
        ("7965db0b", True),
        ("ffffffff", False),
    ],
)
def test_supports_interfaces(system, interface, supported):
    assert system.works.supportsInterface(bytes.fromhex(interface)) is supported
