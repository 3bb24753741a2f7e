"""``/ipfs/<cid>`` with the real app: a minted work's metadata and image, by the CIDs in
its on-chain ``tokenURI``, come back with bytes that hash to those CIDs."""

from __future__ import annotations

import json

import pytest
from multiformats import CID

from tastemaker.rounds.pins import minted_content, pin_all, statuses
from tastemaker.rounds.service import close_round
from tastemaker.store.media import cid_for_bytes
from tastemaker.store.pinning import KuboPinner
from tests.store.pin_servers import serve
from tests.web.support import ETHER, siwe_sign_in, vote

pytestmark = pytest.mark.slow


def test_a_minted_works_metadata_and_image_come_through_the_gateway(site, client) -> None:
    member = site.members[1]
    siwe_sign_in(client, member)
    pool = client.get(f"/api/rounds/{site.round}/pool").json()["items"]
    assert vote(client, member, site.round, pool[0]["content_hash"], 1, ETHER).status_code == 200
    assert close_round(site.ctx, site.round, force=True) == "auction"
    token = client.get("/api/auctions").json()["items"][0]["token_id"]

    uri = site.chain.token_uri(token)
    assert uri.startswith("ipfs://")
    metadata_cid = uri.removeprefix("ipfs://")
    got = client.get(f"/ipfs/{metadata_cid}")
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    assert cid_for_bytes(got.content) == metadata_cid
    assert "immutable" in got.headers["cache-control"]
    metadata = json.loads(got.content)
    assert metadata["name"] == f"Tastemaker round {site.round}"

    image_cid = metadata["image"].removeprefix("ipfs://")
    image = client.get(f"/ipfs/{image_cid}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG") and cid_for_bytes(image.content) == image_cid
    traits = {a["trait_type"]: a["value"] for a in metadata["attributes"]}
    assert traits["content hash"] == pool[0]["content_hash"]

    # The same CID in another multibase names the same bytes; HEAD and If-None-Match work.
    other = str(CID.decode(image_cid).set(base="base58btc"))
    assert client.get(f"/ipfs/{other}").content == image.content
    head = client.head(f"/ipfs/{image_cid}")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(image.content)
    cached = client.get(f"/ipfs/{image_cid}", headers={"If-None-Match": f'"{image_cid}"'})
    assert cached.status_code == 304


def test_the_gateway_refuses_what_it_does_not_hold(client) -> None:
    absent = cid_for_bytes(b"never stored here")
    missing = client.get(f"/ipfs/{absent}")
    assert missing.status_code == 404 and missing.json()["code"] == "not_held"
    for bad in ("not-a-cid", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"):
        refused = client.get(f"/ipfs/{bad}")
        assert refused.status_code == 404 and refused.json()["code"] == "bad_cid"


def test_a_file_changed_on_disk_is_refused_not_served(site, client) -> None:
    stored = site.ctx.media.put_bytes(b'{"a": 1}', "json")
    stored.path.write_bytes(b'{"a": 2}')
    damaged = client.get(f"/ipfs/{stored.cid}")
    assert damaged.status_code == 500 and damaged.json()["code"] == "media_corrupt"


def test_minted_content_is_what_the_chain_names_and_pins_to_kubo(site, client) -> None:
    # Runs after the first test of this module minted round 1's winner.
    content = minted_content(site.ctx)
    assert [c.kind for c in content] == ["metadata", "media"]
    token = content[0].token_id
    assert site.chain.token_uri(token) == f"ipfs://{content[0].cid}"
    assert all(cid_for_bytes(c.data) == c.cid for c in content)
    with serve("kubo") as (url, _):
        kubo = KuboPinner(url, timeout=5)
        assert [s.status for s in statuses(content, kubo)] == ["unpinned", "unpinned"]
        assert [s.status for s in pin_all(content, kubo)] == ["pinned", "pinned"]
        assert [s.status for s in statuses(content, kubo)] == ["pinned", "pinned"]
