"""EIP-4361 messages: the text round-trips, and every rule of ``check`` refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tastemaker.chain.client import dev_account
from tastemaker.web import siwe
from tests.web.support import sign_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ACCOUNT = dev_account(3)
MESSAGE = siwe.SiweMessage(
    domain="example.org",
    address=ACCOUNT.address,
    statement="Sign in to Tastemaker.",
    uri="https://example.org/",
    chain_id=31337,
    nonce="a1b2c3d4e5f6a7b8",
    issued_at=NOW,
    expiration_time=NOW + timedelta(minutes=10),
    resources=("https://example.org/terms",),
)


def _check(message: siwe.SiweMessage, now: datetime = NOW) -> None:
    siwe.check(
        message,
        domain="example.org",
        origin="https://example.org",
        chain_id=31337,
        now=now,
        max_age=timedelta(minutes=10),
    )


def test_the_spec_example_shape_parses_and_round_trips() -> None:
    text = MESSAGE.text()
    assert text.splitlines()[0] == "example.org wants you to sign in with your Ethereum account:"
    assert "Issued At: 2026-11-23T09:00:00Z" in text
    assert siwe.parse(text) == MESSAGE
    without_statement = replace(MESSAGE, statement=None, resources=())
    assert siwe.parse(without_statement.text()) == without_statement
    _check(MESSAGE)


def test_the_signature_recovers_the_signer() -> None:
    text = MESSAGE.text()
    assert siwe.recover(text, sign_text(ACCOUNT, text)) == ACCOUNT.address
    assert siwe.recover(text, sign_text(dev_account(4), text)) != ACCOUNT.address
    with pytest.raises(siwe.SiweError, match="cannot be recovered"):
        siwe.recover(text, "0x1234")


@pytest.mark.parametrize(
    ("change", "now", "code"),
    [
        ({"domain": "evil.example"}, NOW, "wrong_domain"),
        ({"uri": "https://evil.example/"}, NOW, "wrong_uri"),
        ({"uri": "https://example.org.evil.example/"}, NOW, "wrong_uri"),
        ({"chain_id": 1}, NOW, "wrong_chain"),
        ({}, NOW + timedelta(minutes=11), "expired"),
        ({"expiration_time": NOW - timedelta(seconds=1)}, NOW, "expired"),
        ({"issued_at": NOW + timedelta(hours=1)}, NOW, "not_yet_valid"),
        ({"not_before": NOW + timedelta(hours=1)}, NOW, "not_yet_valid"),
    ],
)
def test_messages_for_another_site_chain_or_time_are_refused(change, now, code) -> None:
    with pytest.raises(siwe.SiweError) as refused:
        _check(replace(MESSAGE, **change), now)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace("wants you to sign in", "asks you to sign in"),
        lambda t: t.replace(ACCOUNT.address, ACCOUNT.address.lower()),
        lambda t: t.replace("Version: 1", "Version: 2"),
        lambda t: t.replace("Chain ID: 31337", "Chain ID: x"),
        lambda t: t.replace("Nonce: a1b2c3d4e5f6a7b8", "Nonce: short"),
        lambda t: t.replace("Issued At: 2026-11-23T09:00:00Z", "Issued At: yesterday"),
        lambda t: t.replace("Issued At: 2026-11-23T09:00:00Z", "Issued At: 2026-11-23T09:00:00"),
        lambda t: t.replace("\nNonce: a1b2c3d4e5f6a7b8", ""),
        lambda t: t + "\nExtra: field",
        lambda t: "x" * 5000,
        lambda t: "ht tp://" + t,
        lambda t: t.replace("example.org wants", "example.org/path wants"),
    ],
)
def test_malformed_messages_are_refused(mangle) -> None:
    with pytest.raises(siwe.SiweError) as refused:
        siwe.parse(mangle(MESSAGE.text()))
    assert refused.value.code == "malformed_message"


# The example of EIP-4361 (its "Example message" section), byte for byte.
SPEC_EXAMPLE = """example.com wants you to sign in with your Ethereum account:
0x14791697260E4c9A71f18484C9f997B308e59325

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""


def test_the_spec_example_parses_and_is_rebuilt_byte_for_byte() -> None:
    parsed = siwe.parse(SPEC_EXAMPLE)
    assert parsed.domain == "example.com" and parsed.scheme is None
    assert parsed.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert parsed.chain_id == 1 and parsed.nonce == "32891756"
    assert parsed.resources[1] == "https://example.com/my-web2-claim.json"
    assert parsed.text() == SPEC_EXAMPLE
    with_scheme = "https://" + SPEC_EXAMPLE
    assert siwe.parse(with_scheme).scheme == "https"
    assert siwe.parse(with_scheme).text() == with_scheme


def test_without_a_statement_two_blank_lines_follow_the_address() -> None:
    text = replace(MESSAGE, statement=None, resources=()).text()
    assert f"{ACCOUNT.address}\n\n\nURI: https://example.org/\n" in text


def test_a_message_with_a_scheme_must_name_the_sites_scheme() -> None:
    _check(replace(MESSAGE, scheme="https"))
    with pytest.raises(siwe.SiweError) as refused:
        _check(replace(MESSAGE, scheme="http"))
    assert refused.value.code == "wrong_domain"


@pytest.mark.parametrize(
    "change", [{"statement": "two\nlines"}, {"statement": ""}, {"nonce": "short"}]
)
def test_a_message_the_grammar_forbids_is_never_built(change) -> None:
    with pytest.raises(siwe.SiweError, match=r"statement|nonce"):
        replace(MESSAGE, **change).text()
