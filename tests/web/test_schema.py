"""Schemathesis over the OpenAPI schema: whatever the generated requests are, the
API answers with its documented 2xx or a 4xx problem, never a server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web.support import Site, siwe_sign_in

pytestmark = pytest.mark.slow


def test_no_server_errors(site: Site) -> None:
    # Schemathesis's pytest plugin does not load under pytest 9, so each operation's
    # case strategy is driven by Hypothesis directly.
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", site.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same cases every run: a failure is reproducible
            database=None,
        )
        def no_server_error(case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()


def test_no_server_errors_when_signed_in(site: Site) -> None:
    """The routes behind the session get past the 401 too."""
    from fastapi.testclient import TestClient

    with TestClient(site.app) as client:
        siwe_sign_in(client, site.members[1])
        cookie = client.cookies["tm_session"]
    operations = [
        ("POST", f"/api/rounds/{site.round}/next", None),
        (
            "POST",
            "/api/votes/prepare",
            {"round": site.round, "work": "0x" + "00" * 32, "direction": 1, "amount": "1"},
        ),
        (
            "POST",
            "/api/votes",
            {
                "message": {
                    "voter": site.members[1].address,
                    "round": 1,
                    "work": "0x" + "00" * 32,
                    "direction": 2,
                    "amount": "x",
                    "nonce": -1,
                },
                "signature": "0x00",
            },
        ),
        ("POST", "/api/rewards/claim-tx", None),
        ("POST", "/api/auctions/1/bid-tx", {"amount": "0"}),
        ("GET", "/api/members/me", None),
    ]
    with TestClient(site.app, cookies={"tm_session": cookie}) as client:
        for method, path, body in operations:
            response = client.request(method, path, json=body)
            assert response.status_code < 500, (path, response.text)
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
