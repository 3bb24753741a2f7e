"""EIP-712 claims: an account signs that its reward may be paid to a recipient, so a
relayer can submit the claim and pay its gas (``RewardDistributor.claim_with_signature``).

The signature covers (account, recipient, cumulative amount, deadline) under the
distributor's domain (name, version, chain id, address), so it is good for one
distributor on one chain, until the deadline, and pays at most once: after it is paid
the index has ``cumulative amount`` and the same message finds nothing to claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3

DOMAIN_NAME = "Tastemaker RewardDistributor"  # RewardDistributor.__init__
DOMAIN_VERSION = "1"
CLAIM_TYPES = {
    "ClaimTo": [
        {"name": "account", "type": "address"},
        {"name": "recipient", "type": "address"},
        {"name": "cumulativeAmount", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


@dataclass(frozen=True)
class ClaimAuthorization:
    """What the account signed, and its 65-byte signature (r, s, v)."""

    account: str
    recipient: str
    cumulative_amount: int
    deadline: int
    signature: bytes


def claim_typed_data(
    chain_id: int,
    distributor: str,
    account: str,
    recipient: str,
    cumulative_amount: int,
    deadline: int,
) -> dict[str, Any]:
    """The full EIP-712 document (as ``eth_signTypedData_v4`` takes it)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **CLAIM_TYPES,
        },
        "primaryType": "ClaimTo",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(distributor),
        },
        "message": {
            "account": Web3.to_checksum_address(account),
            "recipient": Web3.to_checksum_address(recipient),
            "cumulativeAmount": cumulative_amount,
            "deadline": deadline,
        },
    }


def sign_claim(
    signer: LocalAccount,
    chain_id: int,
    distributor: str,
    recipient: str,
    cumulative_amount: int,
    deadline: int,
) -> ClaimAuthorization:
    """``signer`` (the leaf's account) authorises paying its claim to ``recipient``."""
    document = claim_typed_data(
        chain_id, distributor, signer.address, recipient, cumulative_amount, deadline
    )
    signed = signer.sign_message(encode_typed_data(full_message=document))
    return ClaimAuthorization(
        signer.address,
        Web3.to_checksum_address(recipient),
        cumulative_amount,
        deadline,
        bytes(signed.signature),
    )
