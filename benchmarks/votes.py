"""Vote intake throughput: signed votes verified and stored per second on SQLite.

Each vote is checked (EIP-712 signature, round window, pool, nonce, VP budget) and
committed in its own transaction before it is acknowledged, as the API does.
Prints JSON. Target (issue 5): >= 1,000 votes/s on SQLite with 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account import Account

from tastemaker.core.ballots import Vote, VoteDomain, sign_vote
from tastemaker.core.voting_power import Allowance
from tastemaker.rounds.states import VOTING
from tastemaker.rounds.votes import cast_vote
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
                rules={},
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


def intake(votes: int, voters: int, pool: int) -> dict:
    domain = VoteDomain(31337, CONTRACT)
    keys = [Account.create() for _ in range(voters)]
    works = [i.to_bytes(32, "big") for i in range(1, pool + 1)]
    signed = []
    for i in range(votes):
        key = keys[i % voters]
        vote = Vote(key.address, 1, works[(i * 7919) % pool], 1 - 2 * (i % 3 == 0), 10, i + 1)
        signed.append((vote.message_json(), "0x" + sign_vote(vote, domain, key.key).hex()))

    def allowance_of(voter: str, round_: Round) -> Allowance:
        return Allowance(10**21, True)

    with tempfile.TemporaryDirectory() as folder:
        db = Database(sqlite_url(Path(folder) / "votes.db"))
        start = datetime.now(UTC) - timedelta(hours=1)
        _setup(db, works, start)
        began = time.perf_counter()
        for message, signature in signed:
            with db.unit_of_work() as session:
                cast_vote(session, message, signature, allowance_of)
        seconds = time.perf_counter() - began
        db.dispose()
    return {
        "votes": votes,
        "voters": voters,
        "pool": pool,
        "seconds": round(seconds, 2),
        "votes_per_s": round(votes / seconds, 1),
        "target_votes_per_s": 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--pool", type=int, default=350)
    args = parser.parse_args()
    result = {"benchmark": "votes", "intake_sqlite": intake(args.votes, args.voters, args.pool)}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
