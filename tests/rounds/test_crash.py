"""Crash tests of close and settle on the embedded chain, as an operator meets them.

``tastemaker round close|settle`` runs in its own process (forked from a server that
has the package imported, so a run costs a fork, not an interpreter start); the
test-only hook ``TASTEMAKER_CRASH_AT=POINT=TARGET`` (``tastemaker.rounds.crashpoints``)
SIGKILLs the command, its node or both at every checkpoint, or stalls the node with
SIGSTOP. The operator then reruns the command. Every trial must end with one mint
per round, one funded root per round, claims that pay to the wei, a record that
verifies, and never more than one node for the home.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.node import EmbeddedNode, find_anvil
from tastemaker.chain.settings import ChainSettings
from tastemaker.core.audit import verify_record
from tastemaker.rounds import states
from tastemaker.rounds.curation import RandomCurator
from tastemaker.rounds.record import export_round
from tastemaker.rounds.service import RoundContext, claim_data, open_round
from tastemaker.rounds.settings import RoundSettings
from tastemaker.store.db import Database, sqlite_url
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import Auction, RewardEpoch, Round
from tests.rounds.scenario import BIDDER, ETHER, STAKES, T0, Scenario, staked_context, vote_on_pool

ANVIL = find_anvil(None, Path("/nonexistent"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ANVIL is None, reason="anvil is not installed (make install)"),
]

CLOSE_POINTS = ["closing", "tallied", "minted", "auction_started"]
SETTLE_POINTS = ["auction_settled", "rewards_computed", "root_posted"]
SETTINGS = RoundSettings(candidates=8, new_works=4, pool_size=6, image_size=16, voting_seconds=60)
STALL_S = 1.5
# What `tastemaker round ...` imports, loaded once in the fork server.
PRELOAD = [
    "tastemaker.cli",
    *(f"tastemaker.cli.{m}" for m in ("chain", "demo", "generate", "rounds", "taste", "web")),
    "tastemaker.rounds.bootstrap",
    "tastemaker.rounds.service",
]  # longer than the old code's one-second "is it alive?" probe


# ------------------------------------------------------------------ the command runner

_server: multiprocessing.context.ForkServerContext | None = None


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _server
    if _server is None:
        _server = multiprocessing.get_context("forkserver")
        _server.set_forkserver_preload([*PRELOAD, __name__])
    return _server


def _command(home: str, argv: list[str], crash_at: str | None, log: str) -> None:
    """The body of one `tastemaker ...` process (runs in a forked child)."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ["TASTEMAKER_HOME"] = home
    os.environ.pop("TASTEMAKER_CRASH_AT", None)
    if crash_at:
        os.environ["TASTEMAKER_CRASH_AT"] = crash_at
    sys.argv = ["tastemaker", *argv]
    from tastemaker.cli import main

    main()


class Run:
    def __init__(self, home: Path, argv: list[str], crash_at: str | None = None) -> None:
        self.log = home / f"run-{time.monotonic_ns()}.log"
        self.process = _forkserver().Process(
            target=_command, args=(str(home), argv, crash_at, str(self.log))
        )
        self.process.start()

    def wait(self, timeout: float = 120) -> int:
        self.process.join(timeout)
        assert self.process.exitcode is not None, f"still running: {self.output}"
        return self.process.exitcode

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _argv(step: str, number: int) -> list[str]:
    return ["round", step, str(number), *(["--force"] if step == "close" else [])]


# ------------------------------------------------------------------ the home


def _anvils(home: Path) -> list[int]:
    """Live anvil processes serving this home's chain."""
    marker = str(home / "chain")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            status = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if "anvil" in cmdline and marker in cmdline and status != "Z":
            found.append(int(entry.name))
    return found


def _node(home: Path) -> EmbeddedNode:
    return EmbeddedNode(home / "chain", ANVIL)


@contextmanager
def _context(home: Path) -> Iterator[RoundContext]:
    """The test's own view: attaches to the running node, or starts (and stops) one."""
    chain = ChainClient.connect(ChainSettings(home=home, anvil=ANVIL))
    db = Database(sqlite_url(home / "tastemaker.db"))
    try:
        media = MediaStore(home / "media")
        yield RoundContext(db, chain, media, SETTINGS, RandomCurator(), home, workers=1)
    finally:
        db.dispose()
        chain.close()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    ctx, _ = staked_context(home, STAKES, SETTINGS)
    ctx.db.dispose()
    ctx.chain.close()
    yield home
    for pid in _anvils(home):
        os.kill(pid, signal.SIGCONT)
    _node(home).stop_running()


def _open_and_vote(home: Path, number: int) -> None:
    with _context(home) as ctx:
        now = T0 + timedelta(days=number)
        assert open_round(ctx, now=now) == number
        members = {i: dev_account(i) for i in STAKES}
        vote_on_pool(Scenario(ctx, members), number, now=now)


def _bid_and_wait(home: Path, number: int) -> None:
    with _context(home) as ctx, ctx.db.unit_of_work() as session:
        token_id = session.get(Round, number).token_id
        ctx.chain.bid(token_id, ETHER, sender=dev_account(BIDDER))
        ctx.chain.advance_time(3700)


def _wait_stopped(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        if stat == "T":
            return
        time.sleep(0.02)
    raise AssertionError(f"node {pid} was never stopped")


def _step(home: Path, step: str, number: int, point: str | None, target: str) -> None:
    """Run one step, crashing it at ``point`` with ``target``, then rerun it as an
    operator would until it reports success."""
    _node(home).stop_running()  # the command starts (and owns) its node, like the CLI
    expected = f"round {number}: {states.AUCTION if step == 'close' else states.SETTLED}"
    argv = _argv(step, number)
    if point is None:
        run = Run(home, argv)
        assert run.wait() == 0, run.output
        assert expected in run.output
        return
    first = Run(home, argv, f"{point}={target}")
    if target == "pause":  # the command waits for the stalled node, which then resumes
        pid = _wait_for_node_pid(home)
        _wait_stopped(pid)
        time.sleep(STALL_S)
        assert _anvils(home) == [pid] and first.process.is_alive()
        os.kill(pid, signal.SIGCONT)
        assert first.wait() == 0, first.output
        assert expected in first.output
        return
    code = first.wait()
    if target in ("cli", "both", "stall"):
        assert code == -signal.SIGKILL, f"{point}={target}: exit {code}: {first.output}"
    else:  # node: the command fails on its next chain call, or finishes without one
        assert code in (0, 2), first.output
        if code == 2:
            assert len(first.output.strip().splitlines()) == 1, first.output
    assert len(_anvils(home)) <= 1
    rerun = Run(home, argv)
    if target == "stall":  # the rerun must wait for the stopped node, not start another
        pid = _wait_for_node_pid(home)
        time.sleep(STALL_S)
        assert _anvils(home) == [pid], "a second node was started on the same state"
        assert rerun.process.is_alive(), rerun.output
        os.kill(pid, signal.SIGCONT)
    assert rerun.wait() == 0, f"{point}={target}: rerun failed: {rerun.output}"
    assert expected in rerun.output, rerun.output
    assert len(_anvils(home)) <= 1


def _wait_for_node_pid(home: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pid = _node(home).pid
        if pid is not None and _anvils(home) == [pid]:
            return pid
        time.sleep(0.02)
    raise AssertionError("no node came up")


def _check(home: Path, rounds: int, claimed: dict[str, int]) -> None:
    """One mint and one funded root per round, claims that pay, records that verify."""
    with _context(home) as ctx:
        chain = ctx.chain
        with ctx.db.unit_of_work() as session:
            assert [r.state for r in session.scalars(select(Round).order_by(Round.number))] == [
                states.SETTLED
            ] * rounds
            for r in session.scalars(select(Round)):
                assert chain.token_of_content(r.winner) == r.token_id
                assert chain.work_owner(r.token_id) == dev_account(BIDDER).address
            assert chain.works_count() == rounds  # one mint per round, never two
            epochs = list(session.scalars(select(RewardEpoch).order_by(RewardEpoch.epoch)))
            assert [e.round for e in epochs] == list(range(1, rounds + 1))
            assert all(e.posted for e in epochs)
            assert chain.reward_epoch() == rounds  # one root per round
            for e in epochs:
                assert bytes(chain.contract("distributor").functions.roots(e.epoch).call()) == (
                    e.root
                )
            received = session.scalar(select(func.sum(Auction.voter_pool)))
            assert received == rounds * ETHER * 45 // 100
            distributor = chain.contract("distributor").address
            assert chain.balance(distributor) == received - sum(claimed.values())  # funded
            record = export_round(session, rounds)
        report = verify_record(record)
        assert report.ok, report.checks
        assert record["rewards"]["root"] == "0x" + chain.reward_root().hex()

        for i in (1, 2, 3):  # every member with enough stake claims what it is owed
            member = dev_account(i)
            data = claim_data(ctx, member.address)
            before = chain.balance(member.address)
            chain.claim(
                data.index, member.address, data.cumulative, data.proof, sender=dev_account(8)
            )
            owed = data.cumulative - claimed.get(member.address, 0)
            assert owed > 0 and chain.balance(member.address) - before == owed  # to the wei
            claimed[member.address] = data.cumulative


# ------------------------------------------------------------------ the trials


@pytest.mark.parametrize("target", ["cli", "node", "both", "stall"])
def test_kill_at_every_checkpoint_then_rerun(home: Path, target: str) -> None:
    """One round per checkpoint of close and settle, all in one home: the rounds
    chain up, each epoch's root on top of the last one's claims."""
    claimed: dict[str, int] = {}
    points = [(p, None) for p in CLOSE_POINTS] + [(None, p) for p in SETTLE_POINTS]
    for number, (close_at, settle_at) in enumerate(points, start=1):
        _open_and_vote(home, number)
        _step(home, "close", number, close_at, target)
        _bid_and_wait(home, number)
        _step(home, "settle", number, settle_at, target)
        _check(home, number, claimed)


def test_a_node_stalled_under_a_running_command(home: Path) -> None:
    """SIGSTOP of the node while close and settle wait on it: they resume with it."""
    claimed: dict[str, int] = {}
    _open_and_vote(home, 1)
    _step(home, "close", 1, "tallied", "pause")
    _bid_and_wait(home, 1)
    _step(home, "settle", 1, "auction_settled", "pause")
    _check(home, 1, claimed)
