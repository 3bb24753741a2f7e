"""Two server processes on one database: intake stays exact across processes.

The test prepares a deployment and an open round, starts two ``tastemaker serve``
processes on two ports over the same home and database (as two app servers behind
a proxy would be), and races them: each member sends its votes and next-work
requests to both at once. The database must then hold exactly what one server
would have accepted: budgets never overspent, one current vote per work (the
newest nonce), each impression once, and the pool's counters equal to the rows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from sqlalchemy import create_engine, func, select, text

from tastemaker.core.ballots import Vote, VoteDomain, sign_vote, work_hash
from tastemaker.store.tables import Impression, PoolEntry, VoteRow
from tests.conftest import POSTGRES_URL_ENV
from tests.web.support import sign_text

pytestmark = pytest.mark.slow
ETHER = 10**18
ROUND_ENV = {
    "TASTEMAKER_ROUND_CANDIDATES": "12",
    "TASTEMAKER_ROUND_NEW_WORKS": "6",
    "TASTEMAKER_ROUND_POOL_SIZE": "6",
    "TASTEMAKER_ROUND_IMAGE_SIZE": "32",
    "TASTEMAKER_ROUND_BASELINE_VP": str(100 * ETHER),  # every signed-in wallet: 100 VP
    "TASTEMAKER_WEB_SECRET_KEY": "two-servers",  # app servers of one site share the key
}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'tastemaker.db'}"
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"CI must set {POSTGRES_URL_ENV} so the suite runs on PostgreSQL")
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _prepare_under_round_env(home: Path, db_url: str) -> object:
    """``_prepare`` with ROUND_ENV set in this process, as the servers will have it."""
    saved = {k: os.environ.get(k) for k in ROUND_ENV}
    os.environ.update(ROUND_ENV)
    try:
        return _prepare(home, db_url)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def _prepare(home: Path, db_url: str) -> object:
    """Contracts, DEV stakes and round 1, by this process (which keeps the node)."""
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings
    from tastemaker.rounds.curation import RandomCurator
    from tastemaker.rounds.service import RoundContext, open_round
    from tastemaker.rounds.settings import RoundSettings
    from tastemaker.store.db import Database
    from tastemaker.store.media import MediaStore
    from tastemaker.web.serve import ensure_deployment, stake_dev_wallets

    chain = ChainClient.connect(ChainSettings(home=home))
    ensure_deployment(chain, ChainSettings(home=home))
    stake_dev_wallets(chain)  # here, so the two servers have nothing to send at start
    db = Database(db_url)
    ctx = RoundContext(
        db, chain, MediaStore(home / "media"), RoundSettings(), RandomCurator(), home
    )
    open_round(ctx)
    db.dispose()
    return chain


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tastemaker", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 240
    while True:
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            httpx.get(base + "/api/health", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.5)


def member(i: int) -> LocalAccount:
    return Account.from_key(keccak(f"two servers member {i}".encode()))


async def _race(bases: list[str], members: list[LocalAccount]) -> dict[str, list]:
    clients = [httpx.AsyncClient(base_url=b, timeout=120) for b in bases]
    try:
        current = (await clients[0].get("/api/rounds/current")).json()
        number = current["number"]
        domain = VoteDomain(current["chain_id"], current["verifying_contract"])
        pool = (await clients[0].get(f"/api/rounds/{number}/pool")).json()["items"]
        works = [w["content_hash"] for w in pool]
        cookies = {}
        for account in members:  # signed in on the first server; the cookie works on both
            asked = await clients[0].post("/api/auth/message", json={"address": account.address})
            message = asked.json()["message"]
            body = {"message": message, "signature": sign_text(account, message)}
            verified = await clients[0].post("/api/auth/verify", json=body)
            assert verified.status_code == 200, verified.text
            cookies[account.address] = {"cookie": f"tm_session={verified.cookies['tm_session']}"}
            clients[0].cookies.clear()  # each request names its member's cookie itself

        def send(k: int, account: LocalAccount, vote: Vote) -> object:
            body = {
                "message": vote.message_json(),
                "signature": "0x" + sign_vote(vote, domain, account.key).hex(),
            }
            client = clients[k % 2]
            return client.post("/api/votes", json=body, headers=cookies[account.address])

        requests = []
        budget, replacing = members[:4], members[4:]
        for account in budget:  # six votes of 30 VP on six works: only three fit in 100
            for k, work in enumerate(works):
                vote = Vote(account.address, number, work_hash(work), 1, 30 * ETHER, 1)
                requests.append(("budget", account.address, send(k, account, vote)))
        for account in replacing:  # six nonces on one work: one current vote, the newest
            for k in range(6):
                vote = Vote(account.address, number, work_hash(works[0]), 1, 10 * ETHER, k + 1)
                requests.append(("replace", account.address, send(k, account, vote)))
        for account in members:  # and next works from both servers at once
            for k in range(len(works) + 1):
                shown = clients[k % 2].post(
                    f"/api/rounds/{number}/next", headers=cookies[account.address]
                )
                requests.append(("next", account.address, shown))
        answers = await asyncio.gather(*(r for _, _, r in requests))
        results: dict[str, list] = {"budget": [], "replace": [], "next": []}
        for (kind, who, _), answer in zip(requests, answers, strict=True):
            assert answer.status_code in (200, 409), answer.text
            results[kind].append((who, answer.status_code, answer.json()))
        return results
    finally:
        for client in clients:
            await client.aclose()


def test_two_server_processes_keep_intake_exact(tmp_path: Path, db_url: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = os.environ | ROUND_ENV | {"TASTEMAKER_HOME": str(home), "TASTEMAKER_DATABASE_URL": db_url}
    chain = _prepare_under_round_env(home, db_url)
    port = 19000 + os.getpid() % 500 * 2
    servers = [_serve(port, env), _serve(port + 1, env)]
    try:
        bases = [f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"]
        for server, base in zip(servers, bases, strict=True):
            _wait(server, base)
        members = [member(i) for i in range(6)]
        results = asyncio.run(_race(bases, members))
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
        chain.close()  # type: ignore[attr-defined]

    engine = create_engine(db_url)
    try:
        with engine.connect() as db:
            for account in members[:4]:
                accepted = [a for w, s, a in results["budget"] if w == account.address and s == 200]
                refused = [a for w, s, a in results["budget"] if w == account.address and s == 409]
                assert len(accepted) == 3, "exactly three votes of 30 VP fit in 100 VP"
                assert {a["code"] for a in refused} == {"over_budget"}
                current = db.scalars(  # amounts are uint256: summed here, not in SQL
                    select(VoteRow.amount).where(
                        VoteRow.voter == account.address, VoteRow.current.is_(True)
                    )
                ).all()
                assert sum(current) == 90 * ETHER
            for account in members[4:]:
                rows = db.execute(
                    select(VoteRow.nonce, VoteRow.current).where(VoteRow.voter == account.address)
                ).all()
                assert sum(1 for _, c in rows if c) == 1, "one current vote per work"
                assert max(rows)[1] is True, "the current vote is the newest nonce stored"
                stored = [
                    a
                    for w, _, a in results["replace"]
                    if w == account.address and a.get("status") in ("accepted", "replaced")
                ]
                assert len(stored) == len(rows), "every acknowledged vote is stored"
            shown = dict(db.execute(select(PoolEntry.work, PoolEntry.shown)).all())
            counted = dict(
                db.execute(select(Impression.work, func.count()).group_by(Impression.work)).all()
            )
            assert {w: n for w, n in shown.items() if n} == counted
            per_member = db.execute(
                select(Impression.member, func.count()).group_by(Impression.member)
            ).all()
            assert sorted(n for _, n in per_member) == [6] * 6, "each work shown once a member"
    finally:
        engine.dispose()
    for _who, status, answer in results["next"]:
        assert status == 200 and answer["pool_size"] == 6


def _workers(pid: int) -> list[int]:
    """The server processes uvicorn's supervisor ``pid`` runs (its spawned children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
                found.append(int(child))
    return found


async def _vote_through_a_kill(base: str, server_pid: int, members: list[LocalAccount]) -> dict:
    """Each member replaces its vote on one work 24 times (nonce 1..24) while one of the
    two workers is SIGKILLed; a vote whose request failed is sent again."""
    killed: list[int] = []
    acknowledged: list[tuple[str, int, str]] = []  # (voter, nonce, vote id)
    failures = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        current = (await client.get("/api/rounds/current")).json()
        number = current["number"]
        domain = VoteDomain(current["chain_id"], current["verifying_contract"])
        work = (await client.get(f"/api/rounds/{number}/pool")).json()["items"][0]
        cookies = {}
        for account in members:
            asked = await client.post("/api/auth/message", json={"address": account.address})
            message = asked.json()["message"]
            body = {"message": message, "signature": sign_text(account, message)}
            verified = await client.post("/api/auth/verify", json=body)
            assert verified.status_code == 200, verified.text
            cookies[account.address] = {"cookie": f"tm_session={verified.cookies['tm_session']}"}
            client.cookies.clear()

        async def voter(account: LocalAccount) -> None:
            nonlocal failures
            for nonce in range(1, 25):
                if nonce == 8 and not killed and account is members[0]:
                    victim = _workers(server_pid)[0]
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                vote = Vote(
                    account.address, number, work_hash(work["content_hash"]), 1, ETHER, nonce
                )
                body = {
                    "message": vote.message_json(),
                    "signature": "0x" + sign_vote(vote, domain, account.key).hex(),
                }
                for _attempt in range(20):
                    try:
                        answer = await client.post(
                            "/api/votes", json=body, headers=cookies[account.address]
                        )
                    except httpx.TransportError:
                        failures += 1  # the worker holding this connection died
                        await asyncio.sleep(0.2)
                        continue
                    assert answer.status_code == 200, answer.text
                    acknowledged.append((account.address, nonce, answer.json()["id"]))
                    break
                else:
                    raise AssertionError("the server did not come back")

        await asyncio.gather(*(voter(m) for m in members))
    return {"killed": killed, "acknowledged": acknowledged, "failures": failures}


def test_a_worker_that_dies_is_replaced_and_no_acknowledged_vote_is_lost(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db_url = f"sqlite:///{home / 'tastemaker.db'}"
    env = os.environ | ROUND_ENV | {"TASTEMAKER_HOME": str(home), "TASTEMAKER_DATABASE_URL": db_url}
    chain = _prepare_under_round_env(home, db_url)
    port = 19600 + os.getpid() % 300
    command = [sys.executable, "-m", "tastemaker", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2", "--no-access-log"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(server, base)
        deadline = time.monotonic() + 120
        while len(_workers(server.pid)) < 2:
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.2)
        members = [member(10 + i) for i in range(4)]
        outcome = asyncio.run(_vote_through_a_kill(base, server.pid, members))
        assert len(outcome["killed"]) == 1
        deadline = time.monotonic() + 120
        while True:  # the supervisor starts a new worker in the dead one's place
            alive = _workers(server.pid)
            if len(alive) == 2 and outcome["killed"][0] not in alive:
                break
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        chain.close()  # type: ignore[attr-defined]

    engine = create_engine(db_url)
    try:
        with engine.connect() as db:
            stored = {"0x" + row.hex() for row in db.scalars(select(VoteRow.id))}
            for voter, nonce, vote_id in outcome["acknowledged"]:
                assert vote_id in stored, f"acknowledged vote {nonce} of {voter} is lost"
            for account in members:
                current = db.scalars(
                    select(VoteRow.nonce).where(
                        VoteRow.voter == account.address, VoteRow.current.is_(True)
                    )
                ).all()
                assert current == [24], "the newest acknowledged vote is the current one"
    finally:
        engine.dispose()
    assert len(outcome["acknowledged"]) == 4 * 24
