"""Generation throughput and memory: works/s at 256 px over 2,000 works, all cores.

Prints JSON; ``--engine flame`` measures the flame engine (target 50 works/s, issue 13).
Target (issue 2): >= 150 works/s and peak memory under 1 GiB, so
Botto's peak weekly volume (70,000 candidates) takes under 8 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from tastemaker.generate.batch import generate_works

TARGETS = {"cppn": 150, "flame": 50}  # works/s at 256 px (issues 2 and 13)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", default="cppn", help="cppn (target 150 works/s) or flame (50)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        records = generate_works(
            args.count,
            args.size,
            args.seed,
            Path(folder),
            engine_name=args.engine,
            workers=args.workers,
        )
        seconds = time.perf_counter() - start
        disk = sum(p.stat().st_size for p in Path(folder).iterdir())

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_seconds = sum(u.ru_utime + u.ru_stime for u in usage)
    parent_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "benchmark": "generate",
        "engine": args.engine,
        "works": len(records),
        "size_px": args.size,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "seconds": round(seconds, 2),
        "works_per_s": round(len(records) / seconds, 1),
        "target_works_per_s": TARGETS.get(args.engine),
        # CPU time is what the work costs whatever else shares the machine; the
        # estimate below is the wall rate if every core were free for it.
        "cpu_ms_per_work": round(1000 * cpu_seconds / len(records), 2),
        "works_per_s_if_cores_free": round(args.workers * len(records) / cpu_seconds, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "minutes_for_70k": round(70_000 / (len(records) / seconds) / 60, 2),
        "peak_rss_parent_mib": round(parent_mib, 1),
        "peak_rss_largest_worker_mib": round(child_mib, 1),
        # Upper bound: the parent's peak plus every worker at the largest worker's peak.
        "peak_rss_total_bound_mib": round(parent_mib + args.workers * child_mib, 1),
        "target_peak_mib": 1024,
        "mean_png_kib": round(disk / max(len(records), 1) / 1024, 1),
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
