"""A small real site for the web tests: embedded anvil, SQLite, CPPN, the FastAPI app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.deployment import DeployParams
from tastemaker.chain.settings import ChainSettings
from tastemaker.rounds.curation import RandomCurator
from tastemaker.rounds.service import RoundContext, open_round
from tastemaker.rounds.settings import RoundSettings
from tastemaker.store.db import Database, sqlite_url
from tastemaker.store.media import MediaStore
from tastemaker.web import create_app
from tastemaker.web.settings import WebSettings

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


def build_site(home: Path, image_size: int = 32, **web: Any) -> Site:
    chain = ChainClient.connect(ChainSettings(home=home))
    chain.deploy(
        DeployParams(treasury=dev_account(9).address, auction_duration=3600, time_buffer=60)
    )
    members = {i: dev_account(i) for i in STAKES}
    for i, stake in STAKES.items():
        chain.transfer_token(members[i].address, stake)
        chain.stake(stake, sender=members[i])
    ctx = RoundContext(
        db=Database(sqlite_url(home / "tastemaker.db")),
        chain=chain,
        media=MediaStore(home / "media"),
        settings=RoundSettings(
            candidates=16, new_works=8, pool_size=12, image_size=image_size, voting_seconds=3600
        ),
        curator=RandomCurator(),
        home=home,
        workers=1,
    )
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
