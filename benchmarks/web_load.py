"""Load on the web app: 200 concurrent simulated voters over loopback.

The script deploys the contracts on the embedded chain and opens a small round,
then starts ``tastemaker serve --workers N`` attached to the same chain, on SQLite
(the default) or on PostgreSQL (``--db postgresql``, a fresh schema of the server
named by $TASTEMAKER_TEST_POSTGRES_URL). Each simulated voter signs in with SIWE,
then repeatedly asks for the next work (recording the impression) and casts an
EIP-712 signed vote on it, as the vote page does.

The server is what is measured, not the client: every voter's votes on every pool
work are signed before the clock starts, and the client speaks HTTP/1.1 over raw
asyncio streams (keep-alive, one connection per voter) rather than through a
general HTTP library, so it costs a fraction of the server's CPU.

Prints JSON: votes/s over the voting phase, p50/p99 latency of vote intake and of
"next work", every error counted (a non-2xx answer or a transport error), the
server's CPU time per vote + next-work pair (comparable across machine loads,
unlike wall-clock figures), the load average, the server processes and database.

    python benchmarks/web_load.py [--voters 200] [--votes-each 20] [--workers 1]
                                  [--db sqlite|postgresql] [--rate PAIRS_PER_S]
                                  [--profile DIR]

Without ``--rate`` the voters run a closed loop (each sends its next request the
moment it has an answer), which finds the most the server does; by Little's law its
mean latency is then voters / requests per second (200 voters at 1,000 pairs/s:
100 ms), whatever the server. ``--rate 1000`` offers 1,000 pairs a second on a fixed
schedule (each voter one pair every 0.2 s) and counts each next-work latency from
when it was due, so the p99s say how the server holds that rate.

``--profile DIR`` attaches py-spy to the server processes for the voting phase
(``--gil``: only samples of a thread holding the GIL, i.e. CPU) and writes
DIR/serve.txt (raw stacks); ``benchmarks/profile_summary.py`` sums them by component.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from tastemaker.core.ballots import Vote, VoteDomain, work_hash

TOKEN = 10**18
ROUND_ENV = {
    "TASTEMAKER_ROUND_CANDIDATES": "80",
    "TASTEMAKER_ROUND_NEW_WORKS": "60",
    "TASTEMAKER_ROUND_POOL_SIZE": "60",
    "TASTEMAKER_ROUND_IMAGE_SIZE": "32",
    "TASTEMAKER_ROUND_BASELINE_VP": str(100 * TOKEN),
}
POSTGRES_URL_ENV = "TASTEMAKER_TEST_POSTGRES_URL"


def _context(home: Path, db_url: str, chain: Any) -> Any:
    from tastemaker.rounds.curation import RandomCurator
    from tastemaker.rounds.service import RoundContext
    from tastemaker.rounds.settings import RoundSettings
    from tastemaker.store.db import Database
    from tastemaker.store.media import MediaStore

    return RoundContext(
        db=Database(db_url),
        chain=chain,
        media=MediaStore(home / "media"),
        settings=RoundSettings(),
        curator=RandomCurator(),
        home=home,
        workers=1,
    )


def prepare(home: Path, db_url: str) -> Any:
    """Deploy and open a round (this process keeps the embedded node running)."""
    from tastemaker.chain.client import ChainClient, dev_account
    from tastemaker.chain.deployment import DeployParams
    from tastemaker.chain.settings import ChainSettings
    from tastemaker.rounds.service import open_round

    chain = ChainClient.connect(ChainSettings(home=home))
    chain.deploy(DeployParams(treasury=dev_account(9).address))
    ctx = _context(home, db_url, chain)
    open_round(ctx)
    ctx.db.dispose()
    return chain


def voter_key(i: int) -> LocalAccount:
    return Account.from_key(keccak(f"tastemaker web_load voter {i}".encode()))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Connection:
    """One keep-alive HTTP/1.1 connection with a session cookie: just enough client."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookie: str | None = None
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        )
        if self.cookie:
            head += f"Cookie: tm_session={self.cookie}\r\n"
        try:
            writer.write(head.encode() + b"\r\n" + body)
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == "content-length":
                    length = int(value)
                elif name == "set-cookie" and value.startswith("tm_session="):
                    self.cookie = value.split(";", 1)[0].split("=", 1)[1]
                elif name == "connection" and value.lower() == "close":
                    close = True
            payload = await reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def sign_in(conn: Connection, account: LocalAccount) -> None:
    status, body = await conn.request(
        "POST", "/api/auth/message", json.dumps({"address": account.address}).encode()
    )
    message = json.loads(body)["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature
    status, body = await conn.request(
        "POST",
        "/api/auth/verify",
        json.dumps({"message": message, "signature": "0x" + bytes(signature).hex()}).encode(),
    )
    if status != 200:
        raise RuntimeError(f"sign-in {status}: {body[:200]!r}")


def fast_sign(digest: bytes, key: bytes) -> bytes:
    """What ``core.ballots.sign_vote`` makes (r, s, v), straight from coincurve: twelve
    thousand signatures in a second, not a minute. Low-s, as libsecp256k1 always signs."""
    raw = PrivateKey(bytes(key)).sign_recoverable(digest, hasher=None)
    return raw[:64] + bytes([raw[64] + 27])


def presign(
    account: LocalAccount, number: int, works: list[str], domain: VoteDomain
) -> dict[str, bytes]:
    """This voter's vote on every pool work, signed and encoded before the clock starts.
    Amounts 1-4 VP by pool position, so up to 25 votes stay within 100 VP."""
    bodies = {}
    for position, work in enumerate(works):
        vote = Vote(
            account.address,
            number,
            work_hash(work),
            1 if position % 3 else -1,
            TOKEN * (1 + position % 4),
            1,
        )
        signature = "0x" + fast_sign(vote.digest(domain), account.key).hex()
        bodies[work] = json.dumps({"message": vote.message_json(), "signature": signature}).encode()
    return bodies


async def vote_loop(
    conn: Connection,
    votes: int,
    number: int,
    signed: dict[str, bytes],
    stats: dict[str, Any],
    schedule: tuple[float, float] | None = None,
) -> None:
    """What the vote page does: ask for the next work, vote on it, send the vote.

    ``schedule`` = (first, period): paced, each pair is due at ``first + k * period``
    (perf_counter seconds) and its next-work latency counts from when it was due, so
    a server that falls behind is charged for the wait (no coordinated omission)."""
    for k in range(votes):
        try:
            if schedule is None:
                began = time.perf_counter()
            else:
                began = schedule[0] + k * schedule[1]
                delay = began - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            status, body = await conn.request("POST", f"/api/rounds/{number}/next")
            stats["next_ms"].append((time.perf_counter() - began) * 1000)
            if status != 200:
                stats["errors"].append(f"next {status}: {body[:200]!r}")
                continue
            work = json.loads(body)["work"]
            if work is None:
                break
            began = time.perf_counter()
            status, body = await conn.request("POST", "/api/votes", signed[work["content_hash"]])
            stats["vote_ms"].append((time.perf_counter() - began) * 1000)
            if status != 200:
                stats["errors"].append(f"vote {status}: {body[:200]!r}")
            else:
                stats["votes"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            stats["errors"].append(f"{type(exc).__name__}: {exc}")


def _latency(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.5), 1),
        "p99": round(percentile(values, 0.99), 1),
        "mean": round(statistics.fmean(values), 1) if values else 0.0,
    }


def process_tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


async def load(
    host: str,
    port: int,
    voters: int,
    votes_each: int,
    server_pid: int,
    profile: Path | None,
    rate: float | None = None,
) -> dict:
    base = f"http://{host}:{port}"
    current = httpx.get(base + "/api/rounds/current").json()
    number = current["number"]
    domain = VoteDomain(current["chain_id"], current["verifying_contract"])
    works: list[str] = []
    cursor: str | None = "0"
    while cursor is not None:
        page = httpx.get(f"{base}/api/rounds/{number}/pool?limit=100&cursor={cursor}").json()
        works += [w["content_hash"] for w in page["items"]]
        cursor = page["next_cursor"]
    if votes_each > min(len(works), 25):
        raise SystemExit(f"--votes-each must be at most {min(len(works), 25)}")
    accounts = [voter_key(i) for i in range(voters)]
    signed = [presign(a, number, works, domain) for a in accounts]
    conns = [Connection(host, port) for _ in accounts]
    stats: dict[str, Any] = {"votes": 0, "errors": [], "vote_ms": [], "next_ms": []}
    began = time.perf_counter()
    outcome = await asyncio.gather(
        *(sign_in(c, a) for c, a in zip(conns, accounts, strict=True)), return_exceptions=True
    )
    sign_in_s = time.perf_counter() - began
    stats["errors"] += [f"sign-in: {e!r}" for e in outcome if isinstance(e, BaseException)]
    for conn in conns:  # fresh connections: the server closes ones idle past its keep-alive
        conn.close()
    # Every voter is signed in: now all of them vote at once.
    spy = start_profiler(server_pid, profile / "serve.txt") if profile else None
    cpu_before, load_before = process_tree_cpu_s(server_pid), os.getloadavg()
    client_before = time.process_time()
    began = time.perf_counter()
    # Paced: every voter votes every voters/rate seconds, the voters spread evenly over
    # that period, so the server is offered ``rate`` pairs a second in all.
    period = voters / rate if rate else 0.0
    schedules = [
        (began + 0.05 + i * period / voters, period) if rate else None for i in range(voters)
    ]
    await asyncio.gather(
        *(
            vote_loop(c, votes_each, number, s, stats, when)
            for c, s, when in zip(conns, signed, schedules, strict=True)
        )
    )
    elapsed = time.perf_counter() - began
    client_cpu_s = time.process_time() - client_before
    cpu_s, load_after = process_tree_cpu_s(server_pid) - cpu_before, os.getloadavg()
    if spy is not None:
        stop_profiler(spy)
    for conn in conns:
        conn.close()
    return {
        "voters": voters,
        "votes_each": votes_each,
        # None: closed loop, every voter sends its next request as soon as it has an
        # answer (as fast as the server goes); else pairs/s offered on a fixed schedule.
        "offered_votes_per_s": rate,
        "votes": stats["votes"],
        "errors": len(stats["errors"]),
        "error_samples": stats["errors"][:5],
        "voting_phase_s": round(elapsed, 2),
        "votes_per_s": round(stats["votes"] / elapsed, 1),
        "vote_p99_ms": round(percentile(stats["vote_ms"], 0.99), 1),
        "next_p99_ms": round(percentile(stats["next_ms"], 0.99), 1),
        "vote_latency_ms": _latency(stats["vote_ms"]),
        "next_work_latency_ms": _latency(stats["next_ms"]),
        # Server CPU (all its processes) per vote with its next-work request.
        "server_cpu_ms_per_pair": round(1000 * cpu_s / max(stats["votes"], 1), 3),
        "server_cpu_s": round(cpu_s, 2),
        # The load generator shares the machine's cores: what it used in the same phase.
        "client_cpu_ms_per_pair": round(1000 * client_cpu_s / max(stats["votes"], 1), 3),
        "client_cpu_s": round(client_cpu_s, 2),
        "loadavg_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "sign_in_phase_s": round(sign_in_s, 2),
    }


def _postgres_schema_url(base: str) -> tuple[str, str]:
    """A fresh schema on the test server, and a URL whose connections use it."""
    from sqlalchemy import create_engine, text

    schema = "web_load_" + uuid.uuid4().hex[:10]
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", schema


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600  # a loaded machine: N processes import everything
    while True:
        try:
            httpx.get(base + "/api/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the web server did not start") from None
            time.sleep(0.2)


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the server and its workers, sampling only threads that hold the GIL
    (CPU, not waiting), from now until ``stop_profiler``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "-r", "200"]
    return subprocess.Popen([*command, "-f", "raw", "-o", str(out)], stdout=subprocess.DEVNULL)


def stop_profiler(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)  # py-spy writes its samples on Ctrl-C
    spy.wait(timeout=120)


def run(main: Any) -> Any:
    """The client's event loop: uvloop (as the server's) when installed, so the load
    generator takes less of the cores it shares with the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--votes-each", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--profile", type=Path, help="write py-spy stacks of the server here")
    parser.add_argument(
        "--rate", type=float, help="offer this many vote + next pairs a second (paced)"
    )
    args = parser.parse_args()

    os.environ.update(ROUND_ENV)
    schema = None
    with tempfile.TemporaryDirectory(prefix="tastemaker-web-load-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        if args.db == "postgresql":
            base_url = os.environ.get(POSTGRES_URL_ENV)
            if not base_url:
                raise SystemExit(f"--db postgresql needs {POSTGRES_URL_ENV}")
            db_url, schema = _postgres_schema_url(base_url)
        else:
            db_url = f"sqlite:///{home / 'tastemaker.db'}"
        chain = prepare(home, db_url)
        env = os.environ | {"TASTEMAKER_HOME": str(home), "TASTEMAKER_DATABASE_URL": db_url}
        command = [sys.executable, "-m", "tastemaker", "serve", "--port", str(args.port)]
        command += ["--workers", str(args.workers), "--no-access-log"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            _wait_healthy(f"http://127.0.0.1:{args.port}", server)
            result = run(
                load(
                    "127.0.0.1",
                    args.port,
                    args.voters,
                    args.votes_each,
                    server.pid,
                    args.profile,
                    args.rate,
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
            chain.close()
            if schema is not None:
                _drop_schema(os.environ[POSTGRES_URL_ENV], schema)
    result["server_processes"] = args.workers
    sqlite = "SQLite (WAL, synchronous=FULL)"
    result["database"] = "PostgreSQL" if args.db == "postgresql" else sqlite
    result["server"] = (
        f"tastemaker serve --workers {args.workers} (uvicorn), embedded anvil, loopback"
    )
    result["cpu_count"] = os.cpu_count()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
