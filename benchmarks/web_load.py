"""Load on the web app: 200 concurrent simulated voters over loopback.

The script deploys the contracts on the embedded chain, opens a small round, then
starts the web app in its own process (uvicorn, one worker, SQLite) attached to
the same chain. Each simulated voter signs in with SIWE, then repeatedly asks for
the next work (recording the impression) and casts an EIP-712 signed vote on it,
as the vote page does. Votes are signed in the load process with each voter's own
key; VP comes from the deployment's baseline VP for signed-in wallets.

Prints JSON: votes/s over the voting phase, p50/p99 latency of vote intake and of
"next work", and every error counted (a non-2xx answer or a transport error).

    python benchmarks/web_load.py [--voters 200] [--votes-each 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from tastemaker.core.ballots import Vote, VoteDomain, sign_vote

TOKEN = 10**18
ROUND_ENV = {
    "TASTEMAKER_ROUND_CANDIDATES": "80",
    "TASTEMAKER_ROUND_NEW_WORKS": "60",
    "TASTEMAKER_ROUND_POOL_SIZE": "60",
    "TASTEMAKER_ROUND_IMAGE_SIZE": "32",
    "TASTEMAKER_ROUND_BASELINE_VP": str(100 * TOKEN),
}


def _context(home: Path, chain: Any, workers: int | None = None) -> Any:
    """The round service over ``home`` with a random curator, as both processes use it."""
    from tastemaker.rounds.curation import RandomCurator
    from tastemaker.rounds.service import RoundContext
    from tastemaker.rounds.settings import RoundSettings
    from tastemaker.store.db import Database, sqlite_url
    from tastemaker.store.media import MediaStore

    return RoundContext(
        db=Database(sqlite_url(home / "tastemaker.db")),
        chain=chain,
        media=MediaStore(home / "media"),
        settings=RoundSettings(),
        curator=RandomCurator(),
        home=home,
        workers=workers,
    )


def serve(home: Path, port: int) -> None:
    """The server process: the app over the prepared home, on one uvicorn worker."""
    import logging

    import uvicorn

    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings
    from tastemaker.web import create_app
    from tastemaker.web.settings import WebSettings

    logging.disable(logging.WARNING)
    ctx = _context(home, ChainClient.connect(ChainSettings(home=home)))
    app = create_app(ctx, WebSettings(secret_key="bench"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", backlog=1024)


def prepare(home: Path) -> Any:
    """Deploy and open a round (this process keeps the embedded node running)."""
    from tastemaker.chain.client import ChainClient, dev_account
    from tastemaker.chain.deployment import DeployParams
    from tastemaker.chain.settings import ChainSettings
    from tastemaker.rounds.service import open_round

    chain = ChainClient.connect(ChainSettings(home=home))
    chain.deploy(DeployParams(treasury=dev_account(9).address))
    ctx = _context(home, chain, workers=1)
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


async def sign_in(client: httpx.AsyncClient, account: LocalAccount) -> None:
    answer = await client.post("/api/auth/message", json={"address": account.address})
    message = answer.json()["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature
    verified = await client.post(
        "/api/auth/verify", json={"message": message, "signature": "0x" + bytes(signature).hex()}
    )
    verified.raise_for_status()


async def vote_loop(
    client: httpx.AsyncClient,
    account: LocalAccount,
    votes: int,
    domain: VoteDomain,
    number: int,
    stats: dict[str, Any],
) -> None:
    """What the vote page does: ask for the next work, sign a vote on it, send it."""
    for nonce in range(1, votes + 1):
        try:
            began = time.perf_counter()
            shown = await client.post(f"/api/rounds/{number}/next")
            stats["next_ms"].append((time.perf_counter() - began) * 1000)
            if shown.status_code != 200:
                stats["errors"].append(f"next {shown.status_code}: {shown.text[:200]}")
                continue
            work = shown.json()["work"]
            if work is None:
                break
            vote = Vote(
                account.address,
                number,
                work["content_hash"],
                1 if nonce % 3 else -1,
                TOKEN * (1 + nonce % 5),
                nonce,
            )
            body = {
                "message": vote.message_json(),
                "signature": "0x" + sign_vote(vote, domain, account.key).hex(),
            }
            began = time.perf_counter()
            cast = await client.post("/api/votes", json=body)
            stats["vote_ms"].append((time.perf_counter() - began) * 1000)
            if cast.status_code != 200:
                stats["errors"].append(f"vote {cast.status_code}: {cast.text[:200]}")
            else:
                stats["votes"] += 1
        except httpx.HTTPError as exc:
            stats["errors"].append(f"{type(exc).__name__}: {exc}")


def _latency(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.5), 1),
        "p99": round(percentile(values, 0.99), 1),
        "mean": round(statistics.fmean(values), 1) if values else 0.0,
    }


async def load(base: str, voters: int, votes_each: int) -> dict[str, Any]:
    accounts = [voter_key(i) for i in range(voters)]
    clients = [httpx.AsyncClient(base_url=base, timeout=120) for _ in accounts]
    stats: dict[str, Any] = {"votes": 0, "errors": [], "vote_ms": [], "next_ms": []}
    try:
        current = (await clients[0].get("/api/rounds/current")).json()
        domain = VoteDomain(current["chain_id"], current["verifying_contract"])
        began = time.perf_counter()
        signed = await asyncio.gather(
            *(sign_in(c, a) for c, a in zip(clients, accounts, strict=True)),
            return_exceptions=True,
        )
        sign_in_s = time.perf_counter() - began
        stats["errors"] += [f"sign-in: {e}" for e in signed if isinstance(e, BaseException)]
        # Every voter is signed in: now all of them vote at once.
        began = time.perf_counter()
        await asyncio.gather(
            *(
                vote_loop(c, a, votes_each, domain, current["number"], stats)
                for c, a in zip(clients, accounts, strict=True)
            )
        )
        elapsed = time.perf_counter() - began
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return {
        "voters": voters,
        "votes_each": votes_each,
        "votes": stats["votes"],
        "errors": len(stats["errors"]),
        "error_samples": stats["errors"][:5],
        "voting_phase_s": round(elapsed, 2),
        "votes_per_s": round(stats["votes"] / elapsed, 1),
        "vote_latency_ms": _latency(stats["vote_ms"]),
        "next_work_latency_ms": _latency(stats["next_ms"]),
        "sign_in_phase_s": round(sign_in_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--votes-each", type=int, default=5)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    os.environ.update(ROUND_ENV)
    with tempfile.TemporaryDirectory(prefix="tastemaker-web-load-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        chain = prepare(home)
        env = os.environ | {"TASTEMAKER_HOME": str(home)}
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(home), "--port", str(args.port)], env=env
        )
        try:
            base = f"http://127.0.0.1:{args.port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/api/health", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the web server did not start") from None
                    time.sleep(0.2)
            result = asyncio.run(load(base, args.voters, args.votes_each))
        finally:
            server.terminate()
            server.wait(timeout=30)
            chain.close()
    result["server"] = "uvicorn, 1 worker, SQLite (WAL), embedded anvil, loopback"
    result["cpu_count"] = os.cpu_count()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
