"""The vote page follows the exposure policy: as a round goes on, works that collected
down votes give way to the promising ones (decision 0031)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tastemaker.rounds import focus
from tastemaker.store.tables import PoolEntry
from tests.web.support import ETHER, Site, build_site, siwe_sign_in, vote

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    built = build_site(tmp_path_factory.mktemp("exposure") / "home")
    yield built
    built.close()


def test_half_way_through_a_round_works_voted_down_come_last(site: Site) -> None:
    with TestClient(site.app) as client:
        pool = [
            w["content_hash"]
            for w in client.get(f"/api/rounds/{site.round}/pool", params={"limit": 50}).json()[
                "items"
            ]
        ]
        assert len(pool) == 8
        with site.ctx.db.unit_of_work() as session:  # every work has had its minimum of views
            session.execute(update(PoolEntry).where(PoolEntry.round == site.round).values(shown=3))
        voter = site.members[1]
        siwe_sign_in(client, voter)
        for work, direction in ((pool[0], -1), (pool[1], -1), (pool[2], 1)):
            assert vote(client, voter, site.round, work, direction, 10 * ETHER).status_code == 200
        client.post("/api/auth/logout")

        site.clock.offset = timedelta(seconds=1800)  # half way: half the pool in focus
        focus.forget()
        siwe_sign_in(client, site.members[3])
        offered = [
            client.post(f"/api/rounds/{site.round}/next").json()["work"]["content_hash"]
            for _ in range(5)
        ]
    # The focus is the up-voted work and the three unvoted ones first in pool order; the
    # two voted down come after them. Least-shown-first would offer those two first.
    assert set(offered[:4]) == set(pool[2:6]), offered
    assert offered[4] == pool[0]
