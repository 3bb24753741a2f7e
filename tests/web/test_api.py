"""The JSON API on a real embedded chain: reading, signing in, being shown works, voting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tastemaker.chain.client import dev_account
from tastemaker.rounds.service import impression_counts, record_impression
from tastemaker.store.tables import Impression, PoolEntry
from tests.web.support import ETHER, STAKES, siwe_sign_in, vote

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


def test_rounds_and_the_pool_page_through_every_work_once(site, client) -> None:
    current = client.get("/api/rounds/current").json()
    assert current["number"] == site.round and current["state"] == "voting"
    assert current["pool_size"] == 8  # round 1: the new works only
    listed = client.get("/api/rounds").json()
    assert [r["number"] for r in listed["items"]] == [site.round]

    seen, cursor = [], None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        body = client.get(f"/api/rounds/{site.round}/pool", params=params).json()
        seen += [w["content_hash"] for w in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/rounds/99", 404, "unknown_round"),
        ("/api/rounds/1/pool?cursor=abc", 422, "bad_cursor"),
        ("/api/rounds/1/pool?limit=0", 422, "invalid_request"),
        ("/api/works/0x1234", 422, "bad_hash"),
        ("/api/works/0x" + "ab" * 32, 404, "unknown_work"),
        ("/api/members/not-an-address", 422, "bad_address"),
        ("/api/members/me", 401, "not_signed_in"),
        ("/api/nowhere", 404, "not_found"),
    ],
)
def test_user_errors_are_problem_details(client, path, status, code) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]


def test_work_image_lineage_and_a_cached_print_render(site, client) -> None:
    work = client.get(f"/api/rounds/{site.round}/pool", params={"limit": 1}).json()["items"][0]
    image = client.get(work["image_url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    detail = client.get(f"/api/works/{work['content_hash']}").json()
    assert detail["lineage"] == [] or all("genome_id" in p for p in detail["lineage"])
    first = client.get(detail["print_url"])
    assert first.status_code == 200 and first.content.startswith(b"\x89PNG")
    assert int.from_bytes(first.content[16:20], "big") == 96  # the configured print size
    prints = list((site.ctx.media.root / "prints").glob(f"{work['content_hash'][2:]}-*.png"))
    assert len(prints) == 1
    assert client.get(detail["print_url"]).content == first.content


def test_the_vote_page_shows_unseen_least_shown_works_and_records_impressions(site, client) -> None:
    member = site.members[2]
    siwe_sign_in(client, member)
    assert client.get("/api/auth/session").json()["address"] == member.address
    shown = []
    for _ in range(3):
        body = client.post(f"/api/rounds/{site.round}/next").json()
        shown.append(body["work"]["content_hash"])
        assert body["vp"] == str(STAKES[2])
    assert len(set(shown)) == 3, "a member is not shown the same work twice while others wait"
    with site.ctx.db.unit_of_work() as session:
        count = session.scalar(
            select(func.count()).select_from(Impression).where(Impression.member == member.address)
        )
    assert count == 3
    with site.ctx.db.unit_of_work() as session:
        # Recording it again (another tab) changes nothing; the counters match the rows.
        again = record_impression(session, site.round, member.address, bytes.fromhex(shown[0][2:]))
        assert again is False
        counters = dict(
            session.execute(
                select(PoolEntry.work, PoolEntry.shown).where(
                    PoolEntry.round == site.round, PoolEntry.shown > 0
                )
            ).all()
        )
        assert counters == impression_counts(session, site.round)
        assert sorted(counters.values()) == [1, 1, 1]

    # Another member is shown the least-shown works first: not these three.
    client.post("/api/auth/logout")
    siwe_sign_in(client, dev_account(7))
    other = client.post(f"/api/rounds/{site.round}/next").json()
    assert other["work"]["content_hash"] not in shown
    assert other["vp"] == "0"


def test_voting_spends_vp_replaces_and_refuses_over_budget(site, client) -> None:
    member = site.members[1]
    siwe_sign_in(client, member)
    works = [
        w["content_hash"] for w in client.get(f"/api/rounds/{site.round}/pool").json()["items"][:3]
    ]
    first = vote(client, member, site.round, works[0], 1, 40 * ETHER)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted"
    assert first.json()["remaining"] == str(60 * ETHER)
    again = vote(client, member, site.round, works[0], 1, 30 * ETHER)
    assert again.json()["status"] == "replaced" and again.json()["remaining"] == str(70 * ETHER)
    down = vote(client, member, site.round, works[1], -1, 20 * ETHER)
    assert down.json()["remaining"] == str(50 * ETHER)

    refused = vote(client, member, site.round, works[2], 1, 51 * ETHER)
    assert refused.status_code == 409  # the round's state refuses it, not its form
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "over_budget"

    board = client.get(f"/api/rounds/{site.round}/tally").json()
    assert board["final"] is False
    assert board["items"][0]["work"] == works[0]
    assert board["items"][-1]["work"] == works[1]
    me = client.get("/api/members/me").json()
    assert me["rounds"] == [{"round": site.round, "votes": 2, "vp_spent": str(50 * ETHER)}]


def test_the_leaderboard_is_hidden_until_the_final_day(site, client) -> None:
    from datetime import timedelta

    with site.ctx.db.unit_of_work() as session:
        from tastemaker.store.tables import Round

        closes = session.get(Round, site.round).closes_at
    # Move the app's clock back so the round has more than a day to run.
    site.clock.offset = -timedelta(days=2)
    try:
        hidden = client.get(f"/api/rounds/{site.round}/tally")
        assert hidden.status_code == 403 and hidden.json()["code"] == "leaderboard_hidden"
        assert "final 24 hours" in client.get("/round").text
    finally:
        site.clock.offset = timedelta()
    assert closes is not None
    assert client.get(f"/api/rounds/{site.round}/tally").status_code == 200


def test_pages_render(site, client) -> None:
    for path in ("/round", "/vote", "/auction", "/rewards", "/taste", "/gallery"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<main>" in response.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/round"


def test_lineage_names_the_parent_genomes_and_their_works(site, client) -> None:
    from tastemaker.store.tables import GenomeRow, Work

    pool = client.get(f"/api/rounds/{site.round}/pool", params={"limit": 2}).json()["items"]
    parent = pool[0]
    with site.ctx.db.unit_of_work() as session:
        session.add(
            GenomeRow(
                id="c" * 64,
                engine="cppn",
                engine_version="1",
                data={},
                parents=[parent["genome_id"]],
            )
        )
        session.flush()
        session.add(
            Work(
                content_hash=b"\xcc" * 32,
                cid="bafy-child",
                genome_id="c" * 64,
                size=1,
                round_created=site.round,
            )
        )
    child = client.get("/api/works/0x" + "cc" * 32).json()
    assert child["lineage"] == [
        {
            "genome_id": parent["genome_id"],
            "works": [
                {
                    k: parent[k]
                    for k in (
                        "content_hash",
                        "cid",
                        "genome_id",
                        "media_type",
                        "size",
                        "round_created",
                        "image_url",
                        "media_url",
                    )
                }
            ],
        }
    ]


def test_a_dev_wallet_signs_in_and_votes_through_its_rpc(site, client) -> None:
    """The DEV wallet answers the same EIP-1193 requests the page sends a browser wallet."""
    index = 2  # staked by the fixture: site.members[2] is dev_account(2)

    def rpc(method: str, params: list) -> object:
        answer = client.post(
            f"/api/dev/wallets/{index}/rpc", json={"method": method, "params": params}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    (address,) = rpc("eth_requestAccounts", [])
    message = client.post("/api/auth/message", json={"address": address}).json()["message"]
    signature = rpc("personal_sign", ["0x" + message.encode().hex(), address])
    assert (
        client.post(
            "/api/auth/verify", json={"message": message, "signature": signature}
        ).status_code
        == 200
    )
    work = client.post(f"/api/rounds/{site.round}/next").json()["work"]["content_hash"]
    prepared = client.post(
        "/api/votes/prepare",
        json={"round": site.round, "work": work, "direction": -1, "amount": str(ETHER)},
    ).json()
    import json

    signature = rpc("eth_signTypedData_v4", [address, json.dumps(prepared["typed_data"])])
    cast = client.post("/api/votes", json={"message": prepared["message"], "signature": signature})
    assert cast.status_code == 200 and cast.json()["status"] == "accepted"
    unsupported = client.post(
        f"/api/dev/wallets/{index}/rpc", json={"method": "eth_sign", "params": []}
    )
    assert unsupported.status_code == 422 and unsupported.json()["code"] == "invalid_request"
    bad_params = client.post(
        f"/api/dev/wallets/{index}/rpc", json={"method": "personal_sign", "params": []}
    )
    assert bad_params.status_code == 200 and bad_params.json()["error"]["code"] == -32602
