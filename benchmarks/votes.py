"""Vote intake throughput: signed votes verified and stored per second on SQLite.

Part 1, intake: each vote is checked (EIP-712 signature, round window, pool, nonce,
VP budget) and committed before it is acknowledged. "group" sends the votes from 256
coroutines on one event loop through ``VoteIntake.submit_async`` (group commit: the
votes that arrive while one batch is written share the next transaction), as the
API's routes do; "group_threads" from 64 client threads (``submit``); "serial" casts them
one after another, each in its own transaction, the floor with one client. Target
(issue 5): >= 1,000 votes/s on SQLite with 2 cores; issue 12: >= 3,000 in one process,
with every acknowledged vote fsynced.

Part 2, close: a round with 100,000 voters and 1,000,000 votes is read back from
SQLite and counted: latest vote per work, VP cut for unstakers, exposure-corrected
tally, pro-rata rewards and the cumulative Merkle tree with every proof. Target:
under 60 s. (Reading each voter's minimum stake from the chain is not included:
it is one view call per voter, batched by the node.)

Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from eth_account import Account

from tastemaker.core.ballots import Vote, VoteDomain, sign_vote
from tastemaker.core.voting_power import Allowance
from tastemaker.rounds.intake import VoteIntake
from tastemaker.rounds.settings import RoundSettings
from tastemaker.rounds.states import VOTING
from tastemaker.rounds.votes import Ballot, cast_vote
from tastemaker.store.db import Database, sqlite_url
from tastemaker.store.tables import GenomeRow, PoolEntry, Round, Work

CONTRACT = "0x" + "ab" * 20


def _setup(db: Database, works: list[bytes], start: datetime) -> None:
    with db.unit_of_work() as session:
        session.add(GenomeRow(id="0" * 64, engine="cppn", engine_version="1", data={}, parents=[]))
        session.add(
            Round(
                number=1,
                state=VOTING,
                chain_id=31337,
                verifying_contract=CONTRACT,
                opens_at=start,
                closes_at=start + timedelta(days=7),
                rules=RoundSettings().rules_json(),
            )
        )
        for i, work in enumerate(works):
            session.add(
                Work(content_hash=work, cid=f"c{i}", genome_id="0" * 64, size=1, round_created=1)
            )
        session.flush()
        session.add_all(
            PoolEntry(round=1, work=w, position=i, reason="curated") for i, w in enumerate(works)
        )


def _allow_all(voter: str, round_: Round) -> Allowance:
    return Allowance(10**21, True)


CLIENTS = 64  # "group_threads": client threads, each waiting on its vote
# "group": coroutines on one event loop, as the web app's routes wait on the writer
# (``submit_async``: one wake-up of the loop per batch, no thread per client).
ASYNC_CLIENTS = 256


def _cast_all(
    url: str, signed: list[tuple[dict, str]], start_at: float, mode: str
) -> tuple[float, float, float]:
    """Cast every vote, acknowledged once stored; returns when this process began, when
    the last vote was stored, and the CPU seconds it (clients and writer) spent."""
    db = Database(url, migrate=False)
    while time.time() < start_at:  # start together, after every process has imported
        time.sleep(0.001)
    cpu, started = time.process_time(), time.time()
    if mode == "serial":
        for message, signature in signed:
            with db.unit_of_work() as session:
                cast_vote(session, message, signature, _allow_all)
    elif mode == "group":
        intake = VoteIntake(db, _allow_all)

        async def voter(share: list[tuple[dict, str]]) -> None:
            for message, signature in share:
                answer = await intake.submit_async(Ballot(message, signature, datetime.now(UTC)))
                if isinstance(answer, Exception):
                    raise answer

        async def everyone() -> None:
            shares = [signed[c::ASYNC_CLIENTS] for c in range(ASYNC_CLIENTS)]
            await asyncio.gather(*(voter(share) for share in shares))

        asyncio.run(everyone())
        intake.close()
    else:
        intake = VoteIntake(db, _allow_all)

        def client(share: list[tuple[dict, str]]) -> None:
            for message, signature in share:
                intake.submit(Ballot(message, signature, datetime.now(UTC)))

        with ThreadPoolExecutor(CLIENTS) as clients:
            list(clients.map(client, [signed[c::CLIENTS] for c in range(CLIENTS)]))
        intake.close()
    done = time.time()
    db.dispose()
    return started, done, time.process_time() - cpu


def intake(votes: int, voters: int, pool: int, processes: int = 1, mode: str = "group") -> dict:
    domain = VoteDomain(31337, CONTRACT)
    keys = [Account.create() for _ in range(voters)]
    works = [i.to_bytes(32, "big") for i in range(1, pool + 1)]
    signed = []
    for i in range(votes):
        key = keys[i % voters]
        vote = Vote(key.address, 1, works[(i * 7919) % pool], 1 - 2 * (i % 3 == 0), 10, i + 1)
        signed.append((vote.message_json(), "0x" + sign_vote(vote, domain, key.key).hex()))

    with tempfile.TemporaryDirectory() as folder:
        url = sqlite_url(Path(folder) / "votes.db")
        db = Database(url)
        start = datetime.now(UTC) - timedelta(hours=1)
        _setup(db, works, start)
        db.dispose()
        # Each process takes whole voters, as a load balancer pinning sessions would.
        shares = [
            [v for v in signed if hash(v[0]["voter"]) % processes == p] for p in range(processes)
        ]
        if processes == 1:
            began = time.time()
            _, ended, cpu_s = _cast_all(url, signed, began, mode)
            seconds = ended - began
        else:
            with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool_:
                began = time.time() + 10  # time for the workers to start and import
                ends = list(
                    pool_.map(
                        _cast_all,
                        [url] * processes,
                        shares,
                        [began] * processes,
                        [mode] * processes,
                    )
                )
            # From when the last process was ready: on a loaded machine a spawned
            # process can take longer than the 5 s allowed to import everything.
            seconds = max(end for _, end, _ in ends) - max(start for start, _, _ in ends)
            cpu_s = sum(cpu for _, _, cpu in ends)
    return {
        "mode": mode,
        "clients": {"group": ASYNC_CLIENTS, "group_threads": CLIENTS}.get(mode, 1),
        "processes": processes,
        "votes": votes,
        "voters": voters,
        "pool": pool,
        "seconds": round(seconds, 2),
        "votes_per_s": round(votes / seconds, 1),
        # CPU of the intake processes (their client threads included) per vote: the
        # figure that does not follow the machine's load.
        "cpu_ms_per_vote": round(1000 * cpu_s / votes, 3),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_votes_per_s": 3000,  # issue 12: with durable (fsynced) commits
    }


def close(voters: int, votes: int, pool: int, seed: int = 0) -> dict:
    import numpy as np
    from sqlalchemy import insert

    from tastemaker.core.merkle import RewardTree
    from tastemaker.core.outcome import reward_epoch
    from tastemaker.core.voting_power import TOKEN_UNIT
    from tastemaker.rounds.service import stored_outcome
    from tastemaker.store.tables import AllowanceRecord, Impression, VoteRow

    rng = np.random.default_rng(seed)
    addresses = [f"0x{i:040x}" for i in range(1, voters + 1)]
    works = [i.to_bytes(32, "big") for i in range(1, pool + 1)]
    popularity = rng.dirichlet(np.full(pool, 0.5))
    who = rng.integers(0, voters, votes)
    what = rng.choice(pool, size=votes, p=popularity)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(sqlite_url(Path(folder) / "close.db"))
        start = datetime.now(UTC) - timedelta(hours=1)
        _setup(db, works, start)
        began = time.perf_counter()
        with db.engine.begin() as connection:
            rows = [
                {
                    "id": i.to_bytes(32, "big"),
                    "round": 1,
                    "voter": addresses[m],
                    "work": works[w],
                    "direction": 1 if i % 3 else -1,
                    "amount": TOKEN_UNIT,
                    "nonce": i,
                    "signature": "0x",
                    "current": True,
                    "received_at": start,
                }
                for i, (m, w) in enumerate(zip(who, what, strict=True), start=1)
            ]
            connection.execute(insert(VoteRow.__table__), rows)
            connection.execute(
                insert(AllowanceRecord.__table__),
                [
                    {
                        "round": 1,
                        "member": a,
                        "min_stake": 100 * TOKEN_UNIT,
                        "vp": 100 * TOKEN_UNIT,
                        "earns_rewards": True,
                    }
                    for a in addresses
                ],
            )
            seen = {
                (addresses[m], works[w]) for m, w in zip(who[: votes * 3 // 2], what, strict=False)
            }
            connection.execute(
                insert(Impression.__table__),
                [{"round": 1, "member": m, "work": w, "shown_at": start} for m, w in seen],
            )
        loaded = time.perf_counter() - began

        began = time.perf_counter()
        with db.unit_of_work() as session:
            round_ = session.get(Round, 1)
            outcome = stored_outcome(session, round_)
        counted = time.perf_counter() - began
        epoch = reward_epoch(10**18, outcome.reward_weights, {}, {})
        tree = RewardTree.build(epoch.cumulative, epoch.indexes)
        proofs = [tree.proof(a) for a in epoch.cumulative]
        total = time.perf_counter() - began
        db.dispose()
    return {
        "voters": voters,
        "votes": votes,
        "pool": pool,
        "setup_insert_seconds": round(loaded, 1),
        "read_and_tally_seconds": round(counted, 2),
        "close_seconds": round(total, 2),
        "target_seconds": 60,
        "rewarded_accounts": len(epoch.shares),
        "proofs": len(proofs),
        "winner": "0x" + outcome.winner.hex() if outcome.winner else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--pool", type=int, default=350)
    parser.add_argument("--close-voters", type=int, default=100_000)
    parser.add_argument("--close-votes", type=int, default=1_000_000)
    parser.add_argument("--close-pool", type=int, default=1050)
    parser.add_argument("--skip-close", action="store_true", help="intake only")
    args = parser.parse_args()
    result = {
        "benchmark": "votes",
        "intake_sqlite": intake(args.votes, args.voters, args.pool),
        "intake_sqlite_2_processes": intake(args.votes, args.voters, args.pool, processes=2),
        "intake_sqlite_threads": intake(args.votes, args.voters, args.pool, mode="group_threads"),
        "intake_sqlite_serial": intake(args.votes, args.voters, args.pool, mode="serial"),
    }
    if not args.skip_close:
        result["close_sqlite"] = close(args.close_voters, args.close_votes, args.close_pool)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
