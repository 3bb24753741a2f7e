import contextlib

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from tastemaker.core.ballots import (
    BallotError,
    Vote,
    VoteDomain,
    recover_signer,
    sign_vote,
    verify_vote,
)

KEY = "0x" + "11" * 32
VOTER = Account.from_key(KEY).address
OTHER_KEY = "0x" + "22" * 32
DOMAIN = VoteDomain(31337, "0x" + "ab" * 20)


def _vote(**changes) -> Vote:
    fields = dict(voter=VOTER, round=3, work=b"\x07" * 32, direction=-1, amount=10**18, nonce=1)
    return Vote(**(fields | changes))


def test_digest_matches_eth_account_typed_data_encoder() -> None:
    vote = _vote()
    expected = encode_typed_data(full_message=vote.typed_data(DOMAIN))
    assert vote.digest(DOMAIN) == Account.sign_message(expected, KEY).message_hash
    up = _vote(direction=1)
    assert (
        up.digest(DOMAIN)
        == Account.sign_message(
            encode_typed_data(full_message=up.typed_data(DOMAIN)), KEY
        ).message_hash
    )


def test_a_wallet_signature_verifies_and_the_id_is_the_digest() -> None:
    vote = _vote()
    wallet_signature = Account.sign_message(
        encode_typed_data(full_message=vote.typed_data(DOMAIN)), KEY
    ).signature
    assert verify_vote(vote, DOMAIN, wallet_signature) == vote.digest(DOMAIN)
    assert sign_vote(vote, DOMAIN, KEY) == bytes(wallet_signature)


@pytest.mark.parametrize(
    "replayed",
    [
        lambda v: (_vote(round=4), DOMAIN),  # another round
        lambda v: (v, VoteDomain(1, DOMAIN.verifying_contract)),  # another chain
        lambda v: (v, VoteDomain(31337, "0x" + "cd" * 20)),  # another deployment
        lambda v: (_vote(amount=2 * 10**18), DOMAIN),  # a changed amount
    ],
)
def test_a_signature_does_not_carry_over(replayed) -> None:
    signature = sign_vote(_vote(), DOMAIN, KEY)
    vote, domain = replayed(_vote())
    with pytest.raises(BallotError, match="not by the voter"):
        verify_vote(vote, domain, signature)


def test_a_signature_by_someone_else_is_refused() -> None:
    signature = sign_vote(_vote(), DOMAIN, OTHER_KEY)
    with pytest.raises(BallotError, match="not by the voter"):
        verify_vote(_vote(), DOMAIN, signature)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("0x1234", "65 bytes"),
        ("zz" * 65, "not hex"),
        ("0x" + "00" * 65, "malformed"),
    ],
)
def test_malformed_signatures_are_refused(signature: str, message: str) -> None:
    with pytest.raises(BallotError, match=message):
        verify_vote(_vote(), DOMAIN, signature)


def test_malleable_high_s_twin_is_refused() -> None:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    signature = sign_vote(_vote(), DOMAIN, KEY)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (n - s).to_bytes(32, "big") + bytes([55 - v])  # flips v 27 <-> 28
    with pytest.raises(BallotError, match="malformed"):
        recover_signer(_vote().digest(DOMAIN), twin)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"direction": 0}, "direction must be"),
        ({"amount": 0}, "amount must be positive"),
        ({"amount": -5}, "unsigned 256-bit"),
        ({"work": b"short"}, "32 bytes"),
        ({"voter": "0xnope"}, "not an Ethereum address"),
    ],
)
def test_malformed_votes_are_refused(fields, message: str) -> None:
    with pytest.raises(BallotError, match=message):
        _vote(**fields)


def test_vote_json_round_trip() -> None:
    vote = _vote()
    assert Vote.from_json(vote.message_json()) == vote
    with pytest.raises(BallotError, match="missing 'nonce'"):
        Vote.from_json({k: v for k, v in vote.message_json().items() if k != "nonce"})


def test_recovery_agrees_with_eth_account_over_many_keys_and_digests() -> None:
    """recover_signer calls libsecp256k1 directly: the same signer as eth-account's
    own recovery, for both recovery ids and with v as 0/1 or 27/28."""
    from eth_hash.auto import keccak

    for i in range(64):
        account = Account.from_key(keccak(b"ballots recovery %d" % i))
        digest = keccak(b"digest %d" % i)
        signed = Account.unsafe_sign_hash(digest, account.key)
        signature = bytes(signed.signature)
        assert recover_signer(digest, signature) == account.address
        assert Account._recover_hash(digest, signature=signature) == account.address
        raw_v = signature[:64] + bytes([signature[64] - 27])
        assert recover_signer(digest, raw_v) == account.address
        # The other recovery id gives another key (or none): never this signer.
        flipped = signature[:64] + bytes([55 - signature[64]])
        with contextlib.suppress(BallotError):
            assert recover_signer(digest, flipped) != account.address


def test_an_r_that_is_no_curve_point_does_not_recover() -> None:
    # x = 5 is not the x coordinate of any secp256k1 point (5**3 + 7 is no square mod p).
    signature = (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + bytes([27])
    with pytest.raises(BallotError, match="does not recover"):
        recover_signer(_vote().digest(DOMAIN), signature)
