"""Schemathesis over the OpenAPI schema, against the live app (its ASGI interface):

- whatever the generated requests are (fitting the schema or not), the API answers
  with its documented 2xx or a 4xx problem, never a server error;
- a request that fits the schema is not refused as malformed (no "accepted by the
  schema but refused": 400/413/422); it may still be refused for who sends it (401,
  403), what it names (404) or when (409);
- signed in, the routes behind the session get past the 401 and keep both promises.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from tests.web.support import Site, siwe_sign_in

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


def _problem_documents(ctx, response, case) -> None:  # type: ignore[no-untyped-def]
    if response.status_code >= 400:
        assert response.headers.get("content-type", [""])[0] == PROBLEM, response.text
        if response.status_code == 405:
            assert response.headers.get("allow"), "a 405 without an Allow header"


def _run(
    site: Site,
    mode: GenerationMode,
    checks: list[Callable],
    cookies: dict[str, str] | None = None,
    only: Callable[[str], bool] = lambda path: True,
    examples: int = 25,
) -> list[str]:
    """Drive each operation's case strategy with Hypothesis; returns the failures."""
    # Schemathesis's pytest plugin does not load under pytest 9, so each operation's
    # case strategy is driven by Hypothesis directly.
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", site.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = []
    for operation in operations:
        if not only(operation.path):
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same cases every run: a failure is reproducible
            database=None,
            report_multiple_bugs=False,
        )
        def one(case) -> None:  # type: ignore[no-untyped-def]
            if cookies:
                case.cookies = {**(case.cookies or {}), **cookies}
            case.call_and_validate(checks=checks)

        try:
            one()
        except Unsatisfiable:
            continue  # nothing to get wrong: negative cases of an operation without inputs
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    return failures


def test_no_server_errors_on_any_input(site: Site) -> None:
    checks = [not_a_server_error, _problem_documents]
    failures = _run(site, GenerationMode.NEGATIVE, checks)
    assert not failures, "\n\n".join(failures)


def test_requests_that_fit_the_schema_are_not_refused_as_malformed(site: Site) -> None:
    checks = [not_a_server_error, positive_data_acceptance, _problem_documents]
    failures = _run(site, GenerationMode.POSITIVE, checks)
    assert not failures, "\n\n".join(failures)


def test_signed_in_the_same_holds_behind_the_session(site: Site) -> None:
    with TestClient(site.app) as client:
        siwe_sign_in(client, site.members[1])
        cookie = {"tm_session": client.cookies["tm_session"]}
    behind = ("/next", "/votes", "/claim-tx", "/bid-tx", "/members/me", "/logout")

    def gated(path: str) -> bool:
        return path.endswith(behind) and not path.endswith("/logout")

    checks = [not_a_server_error, positive_data_acceptance, _problem_documents]
    failures = _run(site, GenerationMode.POSITIVE, checks, cookie, gated, examples=15)
    negative = [not_a_server_error, _problem_documents]
    failures += _run(site, GenerationMode.NEGATIVE, negative, cookie, gated, examples=15)
    assert not failures, "\n\n".join(failures)
