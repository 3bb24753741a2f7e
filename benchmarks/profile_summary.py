"""Sum py-spy raw stacks of the web server by component (``web_load.py --profile``).

    python benchmarks/profile_summary.py DIR/serve.txt

Prints JSON: each component's share of the samples, exclusive (the innermost frame
that belongs to a known component) and inclusive (any frame does), and the share of
each route. With ``py-spy record --gil`` every sample is a thread holding the GIL,
so the shares are shares of the server's CPU.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

# (component, substrings of a frame that belong to it); the first match wins.
COMPONENTS = [
    ("signature recovery", ["recover_signer", "coincurve", "eth_keys"]),
    ("EIP-712 hashing", ["keccak", "struct_hash", "digest (ballots"]),
    ("SIWE message check", ["siwe.py"]),
    ("session cookie and nonce row", ["web/auth.py", "itsdangerous"]),
    ("vote checks (rounds/votes.py)", ["rounds/votes.py"]),
    ("next-work pick (showing/queries)", ["rounds/showing.py", "web/queries.py"]),
    ("SQLAlchemy", ["sqlalchemy/"]),
    ("sqlite3 driver", ["sqlite3/"]),
    ("psycopg driver", ["psycopg"]),
    ("pydantic", ["pydantic"]),
    ("JSON", ["json/", "orjson", "jsonable_encoder"]),
    ("middleware (web/security.py)", ["web/security.py"]),
    (
        "hot routes (web/hot.py, context, queue hand-off)",
        ["web/hot.py", "web/context.py", "submit_async", "_put (", "_resolve ("],
    ),
    ("group commit batch (web/intake.py)", ["web/intake.py", "rounds/intake.py"]),
    ("FastAPI/Starlette", ["fastapi/", "starlette/"]),
    ("anyio worker threads", ["anyio/", "concurrent/futures"]),
    ("HTTP parser h11", ["h11"]),
    ("uvicorn httptools", ["httptools"]),
    ("uvicorn", ["uvicorn/"]),
    ("asyncio/uvloop", ["asyncio/", "uvloop"]),
    ("chain RPC (web3)", ["web3/", "requests/", "urllib3/"]),
]
ROUTES = [
    ("next work", ["next_work (", "next_answer ("]),
    ("vote", ["cast (votes.py", "vote_answer (", "cast_votes"]),
    ("group commit writer", ["intake.py"]),
    ("sign-in", ["api/auth.py"]),
]


def component(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, keys in COMPONENTS:
            if any(k in frame for k in keys):
                return name
    return "other"


def main(path: str, process: str = "tastemaker") -> None:
    exclusive, inclusive, routes = Counter(), Counter(), Counter()
    total = 0
    with open(path) as handle:
        for line in handle:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            if process not in ";".join(frames[:2]):
                continue  # another process (py-spy -s also samples the supervisor)
            n = int(count)
            total += n
            exclusive[component(frames)] += n
            for name, keys in COMPONENTS:
                if any(k in stack for k in keys):
                    inclusive[name] += n
            routes[next((r for r, keys in ROUTES if any(k in stack for k in keys)), "other")] += n

    def shares(counter: Counter) -> dict[str, float]:
        return {k: round(100 * v / max(total, 1), 1) for k, v in counter.most_common()}

    print(
        json.dumps(
            {
                "samples": total,
                "exclusive_pct": shares(exclusive),
                "inclusive_pct": shares(inclusive),
                "route_pct": shares(routes),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
