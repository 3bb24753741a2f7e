"""The voter's hot routes (web/hot.py): same answers as the FastAPI routes behind them."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from tastemaker.chain.client import dev_account
from tastemaker.store.tables import Impression
from tastemaker.web.api.votes import SignedVote
from tastemaker.web.hot import plain_vote
from tests.web.support import sign_typed, siwe_sign_in

HEX = "0123456789abcdefABCDEF"
_values = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**53 - 1, 2**53, 1.0, 3.0, 1.5, True, False]),
    st.none(),
    st.text(alphabet="0123456789", min_size=0, max_size=80),
    st.sampled_from(["0x" + "a" * 40, "0x" + "A1" * 32, "0x" + "b" * 64, "0X" + "c" * 40, "-1"]),
    st.text(alphabet=HEX + "x", max_size=70).map(lambda t: "0x" + t),
)
_messages = st.fixed_dictionaries(
    {},
    optional={
        key: _values for key in ("voter", "round", "work", "direction", "amount", "nonce", "x")
    },
)
_signatures = st.one_of(
    _values,
    st.text(alphabet=HEX, min_size=130, max_size=130).flatmap(
        lambda t: st.sampled_from([t, "0x" + t, "0x" + t + "0"])
    ),
)


@settings(max_examples=600, deadline=None)
@given(message=_messages, signature=_signatures, extra=st.booleans())
def test_the_fast_check_takes_only_what_the_model_takes_and_gives_its_dump(
    message, signature, extra
) -> None:
    data = {"message": message, "signature": signature} | ({"more": 1} if extra else {})
    body = json.dumps(data).encode()
    plain = plain_vote(body)
    if plain is None:
        return  # FastAPI decides (accepts or refuses): nothing to compare
    model = SignedVote.model_validate(json.loads(body))  # raises if the model refuses
    assert plain == (model.message.model_dump(), model.signature)


def test_the_fast_check_takes_what_the_vote_page_sends() -> None:
    message = {
        "voter": "0x" + "aB" * 20,
        "round": 1,
        "work": "0x" + "0f" * 32,
        "direction": -1,
        "amount": "1000000000000000000",
        "nonce": 1733000000000,
    }
    body = json.dumps({"message": message, "signature": "0x" + "1" * 130}).encode()
    assert plain_vote(body) == (message, "0x" + "1" * 130)
    for broken in (b"", b"[]", b"{", b'{"message": {}, "signature": "0x"}', b"NaN"):
        assert plain_vote(broken) is None
    with pytest.raises(ValidationError):
        SignedVote.model_validate({"message": message | {"round": True}, "signature": "0x"})


def _vote_body(client: TestClient, account, number: int, work: str, amount: int) -> dict:
    prepared = client.post(
        "/api/votes/prepare",
        json={"round": number, "work": work, "direction": 1, "amount": str(amount)},
    ).json()
    return {
        "message": prepared["message"],
        "signature": sign_typed(account, prepared["typed_data"]),
    }


def test_refusals_are_the_same_on_both_paths(site, client) -> None:
    """A vote with ``round`` as 1.0 is one the model takes but the fast check passes on
    to FastAPI: the same refusals come back, byte for byte."""
    member = site.members[2]
    siwe_sign_in(client, member)
    work = client.get(f"/api/rounds/{site.round}/pool").json()["items"][0]["content_hash"]
    over = _vote_body(client, member, site.round, work, 10**30)  # far over their VP
    slow = {
        "message": over["message"] | {"round": float(site.round)},
        "signature": over["signature"],
    }
    fast_answer = client.post("/api/votes", json=over)
    slow_answer = client.post("/api/votes", json=slow)
    assert fast_answer.status_code == slow_answer.status_code == 409
    assert fast_answer.json()["code"] == "over_budget"
    assert fast_answer.content == slow_answer.content
    assert fast_answer.headers["content-type"] == slow_answer.headers["content-type"]

    forged = over | {"signature": "0x" + "22" * 64 + "1b"}
    fast_answer = client.post("/api/votes", json=forged)
    slow_answer = client.post("/api/votes", json=forged | {"message": slow["message"]})
    assert fast_answer.status_code == slow_answer.status_code
    assert fast_answer.content == slow_answer.content

    other = dev_account(1).address  # a vote naming someone else than the signed-in member
    theirs = {"message": over["message"] | {"voter": other}, "signature": over["signature"]}
    fast_answer = client.post("/api/votes", json=theirs)
    assert fast_answer.status_code == 403 and fast_answer.json()["code"] == "not_your_vote"
    client.post("/api/auth/logout")


def test_a_revoked_session_is_refused_on_the_hot_routes_at_once(site, client) -> None:
    member = site.members[3]
    siwe_sign_in(client, member)
    copied = client.cookies["tm_session"]
    number = site.round
    with TestClient(site.app, cookies={"tm_session": copied}) as thief:
        assert thief.post(f"/api/rounds/{number}/next").status_code == 200
        work = client.get(f"/api/rounds/{number}/pool").json()["items"][1]["content_hash"]
        body = _vote_body(client, member, number, work, 1)
        assert client.post("/api/auth/logout").status_code == 200
        refused = thief.post(f"/api/rounds/{number}/next")
        assert refused.status_code == 401 and refused.json()["code"] == "not_signed_in"
        refused = thief.post("/api/votes", json=body)
        assert refused.status_code == 401 and refused.json()["code"] == "not_signed_in"


def test_an_overloaded_writer_answers_503_with_retry_after_and_writes_nothing(site, client) -> None:
    siwe_sign_in(client, site.members[1])
    intake = site.app.state.web.intake

    def shown() -> int:
        with site.ctx.db.unit_of_work() as session:
            return session.scalar(select(func.count()).select_from(Impression)) or 0

    before = shown()
    intake.max_queue, limit = 0, intake.max_queue  # every submit finds the queue full
    try:
        busy = client.post(f"/api/rounds/{site.round}/next")
    finally:
        intake.max_queue = limit
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.json()["code"] == "busy" and busy.json()["instance"].endswith("/next")
    assert shown() == before
    assert client.post(f"/api/rounds/{site.round}/next").status_code == 200
    assert shown() == before + 1
    client.post("/api/auth/logout")


def test_requests_the_middlewares_refuse_still_get_their_refusal(site, client) -> None:
    siwe_sign_in(client, site.members[1])
    cross = client.post(
        f"/api/rounds/{site.round}/next", headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403 and cross.json()["code"] == "cross_site"
    big = client.post(
        "/api/votes",
        content=b"{" + b" " * 100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413
    assert client.get(f"/api/rounds/{site.round}/next").status_code == 405
    client.post("/api/auth/logout")
