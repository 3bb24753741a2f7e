"""Local DEV wallets: an EIP-1193 request handler over the embedded chain's
pre-funded keys, for people trying the site without a browser wallet.

These keys are public (anvil's test mnemonic), so this exists only on the embedded
development chain; the route refuses everywhere else.
"""

from __future__ import annotations

import json
from typing import Any

from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from tastemaker.chain.client import ChainClient
from tastemaker.web.problems import Problem

DEV_INDICES = range(1, 9)  # 0 is the operator's key, 9 the treasury's
METHODS = (
    "eth_requestAccounts",
    "eth_accounts",
    "eth_chainId",
    "personal_sign",
    "eth_signTypedData_v4",
    "eth_sendTransaction",
)


def _hex_int(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    return int(value, 16) if isinstance(value, str) else int(value)


def handle(chain: ChainClient, account: LocalAccount, method: str, params: list[Any]) -> Any:
    """Answer one EIP-1193 request as a wallet holding ``account`` would."""
    if method in ("eth_requestAccounts", "eth_accounts"):
        return [account.address]
    if method == "eth_chainId":
        return hex(chain.chain_id)
    if method == "personal_sign":
        raw = params[0]
        data = bytes(HexBytes(raw)) if isinstance(raw, str) and raw.startswith("0x") else raw
        message = (
            encode_defunct(primitive=data)
            if isinstance(data, bytes)
            else encode_defunct(text=str(data))
        )
        return "0x" + bytes(account.sign_message(message).signature).hex()
    if method == "eth_signTypedData_v4":
        document = params[1] if isinstance(params[1], dict) else json.loads(params[1])
        signed = account.sign_message(encode_typed_data(full_message=document))
        return "0x" + bytes(signed.signature).hex()
    if method == "eth_sendTransaction":
        tx = params[0]
        w3 = chain.w3
        fields = {
            "from": account.address,
            "to": w3.to_checksum_address(tx["to"]),
            "data": tx.get("data", "0x"),
            "value": _hex_int(tx.get("value")),
            "chainId": chain.chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        }
        fields["gas"] = int(w3.eth.estimate_gas(fields) * 1.2)
        fields["gasPrice"] = w3.eth.gas_price
        signed = account.sign_transaction(fields)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        return "0x" + bytes(tx_hash).hex()
    raise Problem(422, "unsupported_method", f"the DEV wallet does not support {method}")
