"""Works: operator-only minting, one token per content hash, metadata and royalties."""

import boa
import pytest

CONTENT = bytes.fromhex("ab" * 32)


def test_operator_mints_with_content_hash_and_uri(system, funded):
    owner = funded("collector")
    with boa.env.prank(system.operator):
        token_id = system.works.mint(owner, CONTENT, "ipfs://meta")
    assert token_id == 1
    assert system.works.ownerOf(token_id) == owner
    assert system.works.tokenURI(token_id) == "ipfs://meta"
    assert system.works.content_hash(token_id) == CONTENT
    assert system.works.token_of_content(CONTENT) == token_id
    assert system.works.totalSupply() == 1


def test_only_the_operator_mints(system, funded):
    stranger = funded("stranger")
    with boa.env.prank(stranger), boa.reverts("works: caller is not the operator"):
        system.works.mint(stranger, CONTENT, "ipfs://meta")


def test_a_content_hash_is_minted_once(system):
    with boa.env.prank(system.operator):
        system.works.mint(system.treasury, CONTENT, "ipfs://a")
        with boa.reverts("works: content already minted"):
            system.works.mint(system.treasury, CONTENT, "ipfs://b")
        with boa.reverts("works: empty content hash"):
            system.works.mint(system.treasury, b"\x00" * 32, "ipfs://c")


def test_metadata_update_event_and_royalty(system):
    with boa.env.prank(system.operator):
        token_id = system.works.mint(system.treasury, CONTENT, "ipfs://a")
        system.works.set_token_uri(token_id, "ipfs://b")
    logs = system.works.get_logs()
    assert any(type(e).__name__ == "MetadataUpdate" for e in logs)
    assert system.works.tokenURI(token_id) == "ipfs://b"
    assert system.works.royaltyInfo(token_id, 10_000) == (system.treasury, 500)


@pytest.mark.parametrize(
    ("interface", "supported"),
    [
        ("80ac58cd", True),
        ("5b5e139f", True),
        ("49064906", True),
        ("2a55205a", True),
        ("ffffffff", False),
    ],
)
def test_supports_interfaces(system, interface, supported):
    assert system.works.supportsInterface(bytes.fromhex(interface)) is supported
