"""A small real site for the web tests: embedded anvil, SQLite, CPPN, the FastAPI app."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tastemaker.chain.client import ChainClient
from tastemaker.rounds.service import RoundContext, open_round
from tastemaker.rounds.settings import RoundSettings
from tastemaker.web import create_app
from tastemaker.web.settings import WebSettings
from tests.rounds.scenario import staked_context

ETHER = 10**18
STAKES = {1: 100 * ETHER, 2: 50 * ETHER, 3: 10 * ETHER}
BIDDER = 5


@dataclass
class Clock:
    """The app's clock: real time plus an offset the tests can move."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Site:
    ctx: RoundContext
    app: FastAPI
    clock: Clock
    members: dict[int, LocalAccount]
    round: int

    @property
    def chain(self) -> ChainClient:
        return self.ctx.chain

    def close(self) -> None:
        self.ctx.db.dispose()
        self.ctx.chain.close()


def build_site(
    home: Path,
    image_size: int = 32,
    wallets: Sequence[tuple[LocalAccount, int]] = (),
    **web: Any,
) -> Site:
    """``wallets``: outside accounts (key, stake) given gas money and staked before the
    round opens, beside the DEV members."""
    settings = RoundSettings(
        candidates=16, new_works=8, pool_size=12, image_size=image_size, voting_seconds=3600
    )
    ctx, members = staked_context(home, STAKES, settings)
    for account, stake in wallets:
        ctx.chain.fund(account.address, 10 * ETHER)
        if stake:
            ctx.chain.transfer_token(account.address, stake)
            ctx.chain.stake(stake, sender=account)
    number = open_round(ctx)
    clock = Clock()
    web = {"origins": ["http://testserver"]} | web
    settings = WebSettings(secret_key="test-secret", print_size=96, **web)
    return Site(ctx, create_app(ctx, settings, now=clock), clock, members, number)


def siwe_sign_in(client: TestClient, account: LocalAccount) -> dict[str, Any]:
    """Sign in through the API as a wallet would: ask for a message, sign it, verify."""
    message = client.post("/api/auth/message", json={"address": account.address}).json()["message"]
    signature = sign_text(account, message)
    response = client.post("/api/auth/verify", json={"message": message, "signature": signature})
    assert response.status_code == 200, response.text
    return {"message": message, "signature": signature}


def sign_text(account: LocalAccount, text: str) -> str:
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def sign_typed(account: LocalAccount, typed_data: dict[str, Any]) -> str:
    from eth_account.messages import encode_typed_data

    signed = account.sign_message(encode_typed_data(full_message=typed_data))
    return "0x" + bytes(signed.signature).hex()


def vote(
    client: TestClient, account: LocalAccount, number: int, work: str, direction: int, amount: int
) -> Any:
    """Prepare, sign with ``account``'s key and cast one vote; returns the response."""
    prepared = client.post(
        "/api/votes/prepare",
        json={"round": number, "work": work, "direction": direction, "amount": str(amount)},
    )
    assert prepared.status_code == 200, prepared.text
    body = prepared.json()
    signature = sign_typed(account, body["typed_data"])
    return client.post("/api/votes", json={"message": body["message"], "signature": signature})


def send_as_wallet(chain: ChainClient, account: LocalAccount, tx: dict[str, Any]) -> dict:
    """What a wallet does with an ``eth_sendTransaction`` request: sign locally and send."""
    w3 = chain.w3
    if "from" in tx:
        assert tx["from"].lower() == account.address.lower()
    if "chainId" in tx:
        assert int(tx["chainId"], 16) == chain.chain_id
    fields = {
        "from": account.address,
        "to": tx["to"],
        "data": tx["data"],
        "value": int(tx["value"], 16),
        "chainId": chain.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "gasPrice": w3.eth.gas_price,
    }
    fields["gas"] = int(w3.eth.estimate_gas(fields) * 1.2)
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(fields).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt
