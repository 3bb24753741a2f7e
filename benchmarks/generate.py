"""Generation throughput and memory: works/s at 256 px over 2,000 works, all cores.

Prints JSON; ``--engine flame`` measures the flame engine; ``--backend ray`` makes the
works on a Ray (started here with --workers CPUs, or the cluster at --address; the
start is timed apart as backend_start_s). Targets: cppn >= 250
works/s (issue 12; issue 2's was 150), flame >= 50 works/s (issue 13), peak memory
under 1 GiB, so Botto's peak weekly volume (70,000 candidates) takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from tastemaker.generate.backends import BACKENDS, get_backend
from tastemaker.generate.batch import generate_works
from tastemaker.generate.registry import get_engine

TARGETS = {"cppn": 250, "flame": 50}  # works/s at 256 px (issues 12 and 13)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessTreeSampler(threading.Thread):
    """Samples CPU time and peak memory of this process's descendants from /proc.

    Generation workers are forked by a fork server (a child of this process), so
    they are not this process's own children and ``RUSAGE_CHILDREN`` never sees
    them; sampling every 20 ms loses at most that much CPU time per worker.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.cpu_s: dict[int, float] = {}
        self.peak_mib: dict[int, float] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.sample()

    def sample(self) -> None:
        for pid in _descendants(os.getpid()):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # it has just exited
            self.cpu_s[pid] = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_mib[pid] = int(line.split()[1]) / 1024


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found.extend(int(c) for c in children)
        frontier.extend(int(c) for c in children)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", default="cppn", help="cppn (target 150 works/s) or flame (50)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backend", default="local", choices=BACKENDS)
    parser.add_argument("--address", default=None, help="with --backend ray: a Ray cluster")
    args = parser.parse_args()

    sampler = ProcessTreeSampler()
    sampler.start()
    backend = get_backend(args.backend, args.address, args.workers)
    started = time.perf_counter()
    backend.check(get_engine(args.engine))  # starts or joins Ray: timed apart
    backend_start_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        records = generate_works(
            args.count,
            args.size,
            args.seed,
            Path(folder),
            engine_name=args.engine,
            workers=args.workers,
            backend=backend,
        )
        seconds = time.perf_counter() - start
        disk = sum(p.stat().st_size for p in Path(folder).iterdir())
    sampler.stop()

    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = own.ru_utime + own.ru_stime + sum(sampler.cpu_s.values())
    parent_mib = own.ru_maxrss / 1024
    child_mib = max(sampler.peak_mib.values(), default=0.0)
    result = {
        "benchmark": "generate",
        "engine": args.engine,
        "backend": args.backend,
        "backend_start_s": round(backend_start_s, 2),
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
