"""What the site refuses: SIWE replay and forgery, cross-site requests, oversize
bodies, a vote for or by another member, DEV wallets off the dev chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.web import create_app
from tastemaker.web.settings import WebSettings
from tests.web.support import ETHER, sign_text, sign_typed, siwe_sign_in, vote

pytestmark = pytest.mark.slow


def _signed_message(client: TestClient, account) -> dict[str, str]:
    message = client.post("/api/auth/message", json={"address": account.address}).json()["message"]
    return {"message": message, "signature": sign_text(account, message)}


def test_a_sign_in_message_works_once(site, client) -> None:
    signed = _signed_message(client, site.members[1])
    assert client.post("/api/auth/verify", json=signed).status_code == 200
    client.post("/api/auth/logout")
    replay = client.post("/api/auth/verify", json=signed)
    assert replay.status_code == 401 and replay.json()["code"] == "nonce_refused"
    assert client.get("/api/auth/session").json()["address"] is None


def test_a_nonce_the_server_never_issued_is_refused(site, client) -> None:
    signed = _signed_message(client, site.members[1])
    forged = signed["message"].replace(signed["message"].split("Nonce: ")[1][:32], "f" * 32)
    response = client.post(
        "/api/auth/verify",
        json={"message": forged, "signature": sign_text(site.members[1], forged)},
    )
    assert response.status_code == 401 and response.json()["code"] == "nonce_refused"


def test_an_expired_sign_in_message_is_refused(site, client) -> None:
    signed = _signed_message(client, site.members[1])
    site.clock.offset = timedelta(minutes=11)
    try:
        response = client.post("/api/auth/verify", json=signed)
    finally:
        site.clock.offset = timedelta()
    assert response.status_code == 401 and response.json()["code"] == "expired"


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("testserver wants", "evil.example wants", "wrong_domain"),
        ("URI: http://testserver/", "URI: http://evil.example/", "wrong_uri"),
        ("Chain ID: 31337", "Chain ID: 1", "wrong_chain"),
    ],
)
def test_a_message_for_another_site_or_chain_is_refused(site, client, old, new, code) -> None:
    message = client.post("/api/auth/message", json={"address": site.members[1].address}).json()[
        "message"
    ]
    assert old in message
    changed = message.replace(old, new)
    response = client.post(
        "/api/auth/verify",
        json={"message": changed, "signature": sign_text(site.members[1], changed)},
    )
    assert response.status_code == 401 and response.json()["code"] == code


def test_a_message_signed_by_someone_else_is_refused(site, client) -> None:
    message = client.post("/api/auth/message", json={"address": site.members[1].address}).json()[
        "message"
    ]
    response = client.post(
        "/api/auth/verify",
        json={"message": message, "signature": sign_text(site.members[2], message)},
    )
    assert response.status_code == 401 and response.json()["code"] == "bad_signature"


def test_a_tampered_session_cookie_is_not_a_session(site, client) -> None:
    siwe_sign_in(client, site.members[1])
    cookie = client.cookies["tm_session"]
    # Change a character inside the signature (the last one may carry only padding bits).
    spot = len(cookie) - 8
    tampered = cookie[:spot] + ("A" if cookie[spot] != "A" else "B") + cookie[spot + 1 :]
    client.cookies.clear()  # replace the jar's cookie rather than sending both
    client.cookies.set("tm_session", tampered)
    assert client.get("/api/auth/session").json()["address"] is None


def test_the_session_cookie_is_httponly_and_samesite_strict(site, client) -> None:
    signed = _signed_message(client, site.members[1])
    header = client.post("/api/auth/verify", json=signed).headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
    ],
)
def test_cross_site_state_changes_are_refused(site, client, headers) -> None:
    siwe_sign_in(client, site.members[1])
    for path, body in [
        ("/api/auth/message", {"address": site.members[1].address}),
        (f"/api/rounds/{site.round}/next", None),
        ("/api/auth/logout", None),
    ]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["code"] == "cross_site"
    assert client.get("/api/auth/session").json()["address"] == site.members[1].address
    # Reading stays open, and a same-origin browser request passes.
    assert client.get("/api/rounds/current", headers=headers).status_code == 200
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert client.post(f"/api/rounds/{site.round}/next", headers=same).status_code == 200


def test_a_configured_public_origin_counts_as_same_origin(site) -> None:
    """Behind a TLS proxy the browser says https while the app sees http."""
    settings = WebSettings(secret_key="x", origins=["https://vote.example.org"])
    app = create_app(site.ctx, settings, now=site.clock)
    with TestClient(app, base_url="http://vote.example.org") as proxied:
        ok = proxied.post("/api/auth/nonce", headers={"Origin": "https://vote.example.org"})
        assert ok.status_code == 200
        evil = proxied.post("/api/auth/nonce", headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and evil.json()["code"] == "cross_site"


def test_oversize_bodies_are_refused(site, client) -> None:
    big = b'{"address": "' + b"a" * 70_000 + b'"}'
    declared = client.post(
        "/api/auth/message", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and declared.json()["code"] == "body_too_large"

    def chunks():  # no Content-Length: the limit counts the bytes as they stream in
        for _ in range(20):
            yield b"a" * 8192

    streamed = client.post(
        "/api/auth/message", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and streamed.json()["code"] == "body_too_large"


def test_a_vote_for_another_member_is_refused(site, client) -> None:
    member, other = site.members[1], site.members[2]
    work = client.get(f"/api/rounds/{site.round}/pool").json()["items"][0]["content_hash"]
    siwe_sign_in(client, other)
    prepared = client.post(
        "/api/votes/prepare",
        json={"round": site.round, "work": work, "direction": 1, "amount": str(ETHER)},
    ).json()
    client.post("/api/auth/logout")

    siwe_sign_in(client, member)
    # Someone else's properly signed vote, sent in my session: not mine to cast.
    theirs = client.post(
        "/api/votes",
        json={
            "message": prepared["message"],
            "signature": sign_typed(other, prepared["typed_data"]),
        },
    )
    assert theirs.status_code == 403 and theirs.json()["code"] == "not_your_vote"
    # A vote naming me but signed with another key does not recover to me.
    mine = client.post(
        "/api/votes/prepare",
        json={"round": site.round, "work": work, "direction": 1, "amount": str(ETHER)},
    ).json()
    forged = client.post(
        "/api/votes",
        json={"message": mine["message"], "signature": sign_typed(other, mine["typed_data"])},
    )
    assert forged.status_code == 403 and forged.json()["code"] == "bad_signature"
    assert vote(client, member, site.round, work, 1, ETHER).status_code == 200


def test_votes_need_a_session(site, client) -> None:
    response = client.post(
        "/api/votes",
        json={
            "message": {
                "voter": site.members[1].address,
                "round": 1,
                "work": "0x" + "00" * 32,
                "direction": 1,
                "amount": "1",
                "nonce": 1,
            },
            "signature": "0x" + "00" * 65,
        },
    )
    assert response.status_code == 401 and response.json()["code"] == "not_signed_in"


def test_dev_wallets_sign_on_the_dev_chain_and_are_refused_elsewhere(site, client) -> None:
    wallets = client.get("/api/dev/wallets").json()["items"]
    assert wallets[0]["address"] == dev_account(1).address
    answer = client.post(
        "/api/dev/wallets/1/rpc", json={"method": "eth_requestAccounts", "params": []}
    )
    assert answer.json()["result"] == [dev_account(1).address]

    # A chain reached by URL: no DEV wallets there, even though it is an anvil node
    # (docs/web.md: the embedded chain only).
    rpc_chain = ChainClient(
        Web3(Web3.HTTPProvider(site.chain.rpc_url)), dev_account(0), site.chain.chain_dir
    )
    assert rpc_chain.is_dev_chain and rpc_chain.node is None
    rounds = site.ctx.__class__(**{**site.ctx.__dict__, "chain": rpc_chain})
    app = create_app(rounds, WebSettings(secret_key="x"), now=site.clock)
    with TestClient(app) as other:
        for response in (
            other.get("/api/dev/wallets"),
            other.post("/api/dev/wallets/1/rpc", json={"method": "eth_accounts"}),
        ):
            assert response.status_code == 403
            assert response.json()["code"] == "dev_wallets_refused"
        assert "DEV wallet" not in other.get("/round").text


def test_a_spoofed_host_cannot_make_another_sites_message_valid(site, client) -> None:
    """A phishing site gets a victim to sign 'evil.example wants you to sign in' with a
    nonce it fetched from us, then replays it to us with Host: evil.example."""
    nonce = client.post("/api/auth/nonce").json()["nonce"]
    victim = site.members[2]
    from datetime import UTC, datetime

    from tastemaker.web import siwe

    text = siwe.SiweMessage(
        domain="evil.example",
        address=victim.address,
        uri="http://evil.example/",
        chain_id=site.chain.chain_id,
        nonce=nonce,
        issued_at=datetime.now(UTC),
    ).text()
    spoofed = {"Host": "evil.example"}
    response = client.post(
        "/api/auth/verify",
        json={"message": text, "signature": sign_text(victim, text)},
        headers=spoofed,
    )
    assert response.status_code == 403 and response.json()["code"] == "untrusted_host"
    asked = client.post("/api/auth/message", json={"address": victim.address}, headers=spoofed)
    assert asked.status_code == 403 and asked.json()["code"] == "untrusted_host"


def test_without_configured_origins_only_loopback_hosts_sign_in(site) -> None:
    app = create_app(site.ctx, WebSettings(secret_key="x"), now=site.clock)
    address = {"address": site.members[1].address}
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        message = local.post("/api/auth/message", json=address).json()["message"]
        assert message.startswith("127.0.0.1:8000 wants you to sign in")
    with TestClient(app, base_url="http://vote.example.org") as public:
        refused = public.post("/api/auth/message", json=address)
        assert refused.status_code == 403 and refused.json()["code"] == "untrusted_host"


def test_logout_revokes_the_session_for_every_copy_of_its_cookie(site, client) -> None:
    siwe_sign_in(client, site.members[3])
    copied = client.cookies["tm_session"]
    with TestClient(site.app, cookies={"tm_session": copied}) as thief:
        assert thief.get("/api/auth/session").json()["address"] == site.members[3].address
        assert client.post("/api/auth/logout").status_code == 200
        assert thief.get("/api/auth/session").json()["address"] is None
        assert thief.get("/api/members/me").status_code == 401


def test_a_refused_vote_writes_nothing(site, client) -> None:
    from sqlalchemy import func, select

    from tastemaker.store.tables import Member, VoteRow

    newcomer = dev_account(8)  # signed in, never voted, no stake: every vote is over budget
    siwe_sign_in(client, newcomer)
    work = client.get(f"/api/rounds/{site.round}/pool").json()["items"][0]["content_hash"]

    def counts() -> tuple[int, int]:
        with site.ctx.db.unit_of_work() as session:
            members = session.scalar(select(func.count()).select_from(Member))
            votes = session.scalar(select(func.count()).select_from(VoteRow))
        return members, votes

    before = counts()
    refused = vote(client, newcomer, site.round, work, 1, 5 * ETHER)
    assert refused.status_code == 409 and refused.json()["code"] == "over_budget"
    assert counts() == before


@pytest.mark.parametrize("direction", [True, False, "1", 1.5, 2, 0])
def test_the_vote_api_takes_numbers_not_booleans_or_strings(site, client, direction) -> None:
    siwe_sign_in(client, site.members[1])
    work = client.get(f"/api/rounds/{site.round}/pool").json()["items"][0]["content_hash"]
    intent = {"round": site.round, "work": work, "direction": direction, "amount": "1"}
    refused = client.post("/api/votes/prepare", json=intent)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_request"
    message = {
        "voter": site.members[1].address,
        "round": site.round,
        "work": work,
        "direction": direction,
        "amount": "1",
        "nonce": 1,
    }
    cast = client.post("/api/votes", json={"message": message, "signature": "0x" + "11" * 65})
    assert cast.status_code == 422 and cast.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/votes", "POST"),
        ("GET", "/api/auth/logout", "POST"),
        ("POST", "/api/rounds", "GET"),
        ("PUT", "/api/works/0x" + "ab" * 32, "GET"),
        ("POST", "/vote", "GET"),
        ("POST", "/static/app.js", "GET, HEAD"),
    ],
)
def test_every_405_names_the_allowed_methods(client, method, path, allow) -> None:
    response = client.request(method, path, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("cursor", ["%C2%B2", "%D9%A3", "-1", "1e3", "0x1", "9999999999"])
def test_a_cursor_is_ascii_digits_or_a_problem(client, cursor) -> None:
    for path in ("/api/works", "/api/rounds", "/api/auctions", "/api/models"):
        response = client.get(f"{path}?cursor={cursor}")
        assert response.status_code == 422 and response.json()["code"] == "bad_cursor"
    for path in ("/api/rounds/1/pool", "/api/rounds/1/tally"):
        assert client.get(f"{path}?cursor={cursor}").status_code == 422
