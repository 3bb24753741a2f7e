"""After voting: the auction (live state, bid transaction, history) and rewards
(claimable, proof, claim transaction), sent as a member's wallet would send them."""

from __future__ import annotations

import pytest

from tastemaker.chain.client import dev_account
from tastemaker.core.merkle import verify
from tastemaker.rounds.service import close_round, settle_round
from tests.web.support import BIDDER, ETHER, send_as_wallet, siwe_sign_in, vote

pytestmark = pytest.mark.slow
DAY = 86_400


def test_bid_settle_and_claim_through_the_api(site, client) -> None:
    member = site.members[1]
    siwe_sign_in(client, member)
    pool = client.get(f"/api/rounds/{site.round}/pool").json()["items"]
    assert (
        vote(client, member, site.round, pool[0]["content_hash"], 1, 60 * ETHER).status_code == 200
    )
    assert (
        vote(client, member, site.round, pool[1]["content_hash"], -1, 10 * ETHER).status_code == 200
    )

    assert close_round(site.ctx, site.round, force=True) == "auction"
    board = client.get(f"/api/rounds/{site.round}/tally").json()
    assert board["final"] is True and board["items"][0]["work"] == pool[0]["content_hash"]
    closed = client.post(f"/api/rounds/{site.round}/next")
    assert closed.status_code == 409 and closed.json()["code"] == "round_closed"
    refused = vote(client, member, site.round, pool[2]["content_hash"], 1, ETHER)
    assert refused.status_code == 409 and refused.json()["code"] == "round_closed"

    auctions = client.get("/api/auctions").json()["items"]
    token = auctions[0]["token_id"]
    assert auctions[0]["work"] == pool[0]["content_hash"] and not auctions[0]["settled"]

    bidder = dev_account(BIDDER)
    client.post("/api/auth/logout")
    siwe_sign_in(client, bidder)
    low = client.post(f"/api/auctions/{token}/bid-tx", json={"amount": "1"})
    assert low.status_code == 409 and low.json()["code"] == "bid_too_low"
    prepared = client.post(f"/api/auctions/{token}/bid-tx", json={"amount": str(ETHER)}).json()
    send_as_wallet(site.chain, bidder, prepared["tx"])
    default = client.post(f"/api/auctions/{token}/bid-tx", json={}).json()
    assert int(default["amount"]) == ETHER + ETHER * 5 // 100  # the 5% minimum raise
    send_as_wallet(site.chain, bidder, default["tx"])

    live = client.get(f"/api/auctions/{token}").json()
    assert live["bidder"] == bidder.address and live["amount"] == default["amount"]
    assert [b["amount"] for b in live["bids"]] == [default["amount"], str(ETHER)]
    assert "Bids" in client.get("/auction").text

    site.chain.advance_time(3700)
    late = client.post(f"/api/auctions/{token}/bid-tx", json={})
    assert late.status_code == 409 and late.json()["code"] == "auction_ended"
    # Rehearse a public chain's day-long challenge window (changed through the timelock):
    # the root is posted but the site says when it becomes claimable instead of failing.
    op, ready_at = site.chain.propose("distributor", "set_challenge_window", [str(DAY)])
    site.chain.advance_time(ready_at - site.chain.block_timestamp())
    site.chain.execute(op)
    assert settle_round(site.ctx, site.round) == "settled"

    client.post("/api/auth/logout")
    siwe_sign_in(client, member)
    waiting = client.get(f"/api/rewards/{member.address}").json()
    assert waiting["claimable"] == "0" and waiting["proof"] == []
    claimable_at = site.chain.pending_root()[2]
    assert waiting["pending"]["claimable_at"] == claimable_at
    assert int(waiting["pending"]["amount"]) > 0
    early = client.post("/api/rewards/claim-tx")
    assert early.status_code == 409 and early.json()["code"] == "not_yet_claimable"
    assert waiting["pending"]["claimable_at_utc"] in early.json()["detail"]
    page = client.get("/rewards").text
    assert 'id="pending"' in page and waiting["pending"]["claimable_at_utc"] in page
    site.chain.advance_time(DAY)  # the window passes with no veto

    rewards = client.get(f"/api/rewards/{member.address}").json()
    assert rewards["pending"] is None and int(rewards["claimable"]) == int(
        waiting["pending"]["amount"]
    )
    claimable = int(rewards["claimable"])
    assert claimable > 0 and rewards["claimed"] == "0"
    assert verify(
        site.chain.claimable_root(),
        rewards["index"],
        member.address,
        claimable,
        [bytes.fromhex(p[2:]) for p in rewards["proof"]],
    )
    assert rewards["history"][0]["round"] == site.round
    claim = client.post("/api/rewards/claim-tx").json()
    assert claim["amount"] == str(claimable)
    before = site.chain.balance(member.address)
    receipt = send_as_wallet(site.chain, member, claim["tx"])
    gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert site.chain.balance(member.address) == before + claimable - gas
    after = client.get(f"/api/rewards/{member.address}").json()
    assert after["claimable"] == "0" and after["claimed"] == str(claimable)
    again = client.post("/api/rewards/claim-tx")
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_claim"

    settled = client.get(f"/api/auctions/{token}").json()
    assert settled["settled"] is True
    gallery = client.get("/gallery").text
    assert f"Round {site.round}" in gallery and "Print-size render" in gallery
    assert "Claimable" in client.get("/rewards").text
    taste = client.get("/api/taste", params={"member": member.address}).json()
    assert taste["rounds"] == [site.round]
    assert all(v[0] is not None for v in taste["collective"].values())
    assert "<svg" in client.get("/taste").text
