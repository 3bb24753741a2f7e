"""Votes as EIP-712 signed messages.

The domain binds a vote to one chain and one deployment; the message names the
voter, round, work (the content hash), direction, VP amount and a nonce. The vote
id is the EIP-712 digest (Snapshot's convention), so anyone can recompute it.

Hashing is done here with precomputed type hashes instead of a generic typed-data
encoder: it is the hot path of vote intake, and the tests check it against
eth-account's encoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from coincurve import PublicKey
from Crypto.Hash import keccak as _keccak
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils import is_address, to_checksum_address

from tastemaker.errors import TastemakerError

DOMAIN_NAME = "Tastemaker"
DOMAIN_VERSION = "1"
_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_VOTE_TYPE = (
    "Vote(address voter,uint256 round,bytes32 work,int8 direction,uint256 amount,uint256 nonce)"
)


def keccak(data: bytes) -> bytes:
    """Keccak-256 straight from pycryptodome (eth-hash's backend, without its dispatch:
    two of these per vote on the intake path)."""
    return _keccak.new(data=data, digest_bits=256).digest()


_DOMAIN_TYPEHASH = keccak(_DOMAIN_TYPE.encode())
_VOTE_TYPEHASH = keccak(_VOTE_TYPE.encode())
# secp256k1 group order; signatures with s above half of it are malleable twins.
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
UINT256_MAX = 2**256 - 1

VOTE_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Vote": [
        {"name": "voter", "type": "address"},
        {"name": "round", "type": "uint256"},
        {"name": "work", "type": "bytes32"},
        {"name": "direction", "type": "int8"},
        {"name": "amount", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
    ],
}


class BallotError(TastemakerError):
    """A vote that is malformed or whose signature does not hold."""


def _uint(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address(value: str) -> bytes:
    return bytes.fromhex(value[2:]).rjust(32, b"\0")


def checksum(address: str) -> str:
    if not isinstance(address, str):
        raise BallotError(f"not an Ethereum address: {address!r}")
    return _checksum(address)


@lru_cache(maxsize=1 << 16)
def _checksum(address: str) -> str:
    # Voters recur round after round, and the checksum costs a keccak plus a
    # character-by-character pass in Python: worth caching on the intake path.
    if not is_address(address):
        raise BallotError(f"not an Ethereum address: {address!r}")
    return to_checksum_address(address)


def work_hash(value: str | bytes) -> bytes:
    """A work's 32-byte content hash from bytes or 0x-prefixed hex."""
    if isinstance(value, str):
        text = value[2:] if value.startswith("0x") else value
        try:
            value = bytes.fromhex(text)
        except ValueError as exc:
            raise BallotError(f"work must be a 32-byte hex hash, got {value!r}") from exc
    if len(value) != 32:
        raise BallotError(f"work must be 32 bytes, got {len(value)}")
    return value


@dataclass(frozen=True)
class VoteDomain:
    """Where a vote counts: one chain and one deployment's contract."""

    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "verifying_contract", checksum(self.verifying_contract))

    @cached_property
    def separator(self) -> bytes:
        return keccak(
            _DOMAIN_TYPEHASH
            + keccak(DOMAIN_NAME.encode())
            + keccak(DOMAIN_VERSION.encode())
            + _uint(self.chain_id)
            + _address(self.verifying_contract)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class Vote:
    voter: str
    round: int
    work: bytes
    direction: int
    amount: int
    nonce: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "voter", checksum(self.voter))
        object.__setattr__(self, "work", work_hash(self.work))
        if self.direction not in (1, -1):
            raise BallotError(f"direction must be +1 or -1, got {self.direction!r}")
        for name in ("round", "amount", "nonce"):
            value = getattr(self, name)
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 0 <= value <= UINT256_MAX
            ):
                raise BallotError(f"{name} must be an unsigned 256-bit integer, got {value!r}")
        if self.amount == 0:
            raise BallotError("amount must be positive")

    def struct_hash(self) -> bytes:
        return keccak(
            _VOTE_TYPEHASH
            + _address(self.voter)
            + _uint(self.round)
            + self.work
            + (self.direction % 2**256).to_bytes(32, "big")  # int8 as two's-complement int256
            + _uint(self.amount)
            + _uint(self.nonce)
        )

    def digest(self, domain: VoteDomain) -> bytes:
        """The EIP-712 hash that is signed; also the vote's id."""
        return keccak(b"\x19\x01" + domain.separator + self.struct_hash())

    def message_json(self) -> dict[str, Any]:
        return {
            "voter": self.voter,
            "round": self.round,
            "work": "0x" + self.work.hex(),
            "direction": self.direction,
            "amount": str(self.amount),
            "nonce": self.nonce,
        }

    def typed_data(self, domain: VoteDomain) -> dict[str, Any]:
        """The full typed-data document a wallet signs with ``eth_signTypedData_v4``."""
        return {
            "types": VOTE_TYPES,
            "primaryType": "Vote",
            "domain": domain.to_json(),
            "message": self.message_json() | {"amount": self.amount},
        }

    @classmethod
    def from_json(cls, message: dict[str, Any]) -> Vote:
        try:
            return cls(
                voter=message["voter"],
                round=int(message["round"]),
                work=message["work"],
                direction=int(message["direction"]),
                amount=int(message["amount"]),
                nonce=int(message["nonce"]),
            )
        except KeyError as exc:
            raise BallotError(f"vote message is missing {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise BallotError(f"vote message has a malformed field: {exc}") from exc


def sign_vote(vote: Vote, domain: VoteDomain, private_key: str | bytes) -> bytes:
    """A 65-byte (r, s, v) signature of the vote, as a wallet would make it."""
    digest = vote.digest(domain)
    signed = Account.sign_message(
        SignableMessage(b"\x01", domain.separator, vote.struct_hash()), private_key
    )
    assert signed.message_hash == digest
    return bytes(signed.signature)


def parse_signature(signature: str | bytes) -> bytes:
    if isinstance(signature, str):
        text = signature[2:] if signature.startswith("0x") else signature
        try:
            signature = bytes.fromhex(text)
        except ValueError as exc:
            raise BallotError("signature is not hex") from exc
    if len(signature) != 65:
        raise BallotError(f"signature must be 65 bytes, got {len(signature)}")
    return signature


def recover_signer(digest: bytes, signature: str | bytes) -> str:
    """The address that signed ``digest``; refuses malformed and malleable signatures."""
    raw = parse_signature(signature)
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1) or not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
        raise BallotError("signature is malformed (bad v, r or s)")
    # libsecp256k1 through coincurve (what eth-keys itself uses when it is installed),
    # without eth-keys's objects around it: r, s and v are checked above.
    try:
        public_key = PublicKey.from_signature_and_message(raw[:64] + bytes([v]), digest, None)
    except ValueError as exc:
        raise BallotError("signature does not recover to any address") from exc
    address = keccak(public_key.format(compressed=False)[1:])[-20:]
    return checksum("0x" + address.hex())


def verify_vote(vote: Vote, domain: VoteDomain, signature: str | bytes) -> bytes:
    """The vote id if ``signature`` is the voter's signature of ``vote`` in ``domain``."""
    digest = vote.digest(domain)
    signer = recover_signer(digest, signature)
    if signer != vote.voter:
        raise BallotError(
            f"signature is by {signer}, not by the voter {vote.voter} "
            "(or it was made for another round, chain or deployment)"
        )
    return digest
