"""The pinning clients over real HTTP, against local servers that answer like kubo and
like a Pinning Service: pins, statuses, a node that is down, answers that are garbage."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from tastemaker.store.media import cid_for_bytes
from tastemaker.store.pinning import (
    KuboPinner,
    PinError,
    PinningService,
    PinSettings,
    pinners,
)
from tests.store.pin_servers import serve

DATA = b'{"name":"Tastemaker round 1"}'
CID = cid_for_bytes(DATA)


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_kubo_adds_with_the_stores_cid_and_says_what_is_pinned() -> None:
    with serve("kubo") as (url, node):
        kubo = KuboPinner(url, timeout=5)
        assert kubo.status(CID).status == "unpinned"
        assert kubo.pin(CID, DATA, "round-1-metadata").status == "pinned"
        assert kubo.status(CID).status == "pinned"
        method, path, query = node.requests[1]
        assert (method, path) == ("POST", "/api/v0/add")
        assert query["cid-version"] == ["1"] and query["raw-leaves"] == ["true"]
        assert query["pin"] == ["true"] and query["chunker"] == ["size-1048576"]


def test_kubo_answering_another_cid_is_an_error_not_a_pin() -> None:
    with serve("kubo") as (url, node):
        node.wrong_cid = True
        with pytest.raises(PinError, match="not its CID"):
            KuboPinner(url, timeout=5).pin(CID, DATA, "x")


def test_content_over_one_block_is_refused_before_any_request() -> None:
    with serve("kubo") as (url, node):
        big = bytes(1024 * 1024 + 1)
        with pytest.raises(PinError, match="over 1 MiB"):
            KuboPinner(url, timeout=5).pin(cid_for_bytes(big), big, "big")
        assert node.requests == []


@pytest.mark.parametrize("kind", ["kubo", "psa"])
def test_a_pinner_that_is_down_or_answers_garbage_is_a_clear_error(kind: str) -> None:
    def make(url: str):  # type: ignore[no-untyped-def]
        return KuboPinner(url, 2) if kind == "kubo" else PinningService(url, "secret-token", 2)

    with pytest.raises(PinError, match="cannot reach"):
        make(_closed_port()).status(CID)
    with serve(kind) as (url, server):
        server.garbage = True
        with pytest.raises(PinError, match="not JSON"):
            make(url).status(CID)
        with pytest.raises(PinError, match=r"not JSON|something else"):
            make(url).pin(CID, DATA, "x")


def test_a_pinning_service_is_asked_once_and_reports_its_status() -> None:
    with serve("psa") as (url, service):
        client = PinningService(url, "secret-token", 5, origins=["/ip4/127.0.0.1/tcp/4001"])
        assert client.status(CID).status == "unpinned"
        assert client.pin(CID, DATA, "round-1-metadata").status == "queued"
        assert client.pin(CID, DATA, "round-1-metadata").status == "queued"
        posts = [r for r in service.requests if r[0] == "POST"]
        assert len(posts) == 1  # the second pin saw the request already queued
        assert service.pins[CID]["pin"]["origins"] == ["/ip4/127.0.0.1/tcp/4001"]
        service.pins[CID]["status"] = "pinned"
        assert client.status(CID).status == "pinned"
        service.pins[CID]["status"] = "lost"
        with pytest.raises(PinError, match="status of 'lost'"):
            client.status(CID)


def test_a_pinning_service_refusing_the_token_says_so() -> None:
    with serve("psa") as (url, _), pytest.raises(PinError, match="HTTP 401 bad access token"):
        PinningService(url, "wrong", 5).status(CID)


def test_settings_name_the_pinners_and_offer_kubos_addresses_as_origins() -> None:
    assert pinners(PinSettings(kubo_url=None, pinning_url=None)) == []
    with pytest.raises(PinError, match="PINNING_TOKEN"):
        pinners(PinSettings(pinning_url="http://127.0.0.1:1"))
    with serve("kubo") as (url, _):
        found = pinners(
            PinSettings(
                kubo_url=url, pinning_url="http://psa.invalid", pinning_token=SecretStr("t")
            )
        )
    assert [type(p).__name__ for p in found] == ["KuboPinner", "PinningService"]
    assert found[1].origins == ["/ip4/127.0.0.1/tcp/4001"]
