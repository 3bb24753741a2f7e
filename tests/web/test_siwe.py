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
    ],
)
def test_malformed_messages_are_refused(mangle) -> None:
    with pytest.raises(siwe.SiweError) as refused:
        siwe.parse(mangle(MESSAGE.text()))
    assert refused.value.code == "malformed_message"
