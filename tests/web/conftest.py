from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.support import Site, build_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One deployment and open round per test module (a deployment takes seconds)."""
    built = build_site(tmp_path_factory.mktemp("site") / "home")
    yield built
    built.close()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app) as test_client:
        yield test_client
