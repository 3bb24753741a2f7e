"""Generation throughput and memory: works/s at 256 px over 2,000 works, all cores.

Prints JSON; ``--engine flame`` measures the flame engine, ``--engine all`` both (a
list). The CPU figures are per work, split between the parent and its workers
(which include the fork server's start). Targets: cppn >= 250
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
        self.own_cpu_s = 0.0  # this thread's reading of /proc, left out of the figures
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            started = time.thread_time()
            self.sample()
            self.own_cpu_s += time.thread_time() - started

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


def measure(
    engine: str, count: int, size: int, seed: int, workers: int,
    backend_name: str = "local", address: str | None = None,
) -> dict[str, object]:  # fmt: skip
    sampler = ProcessTreeSampler()
    before = resource.getrusage(resource.RUSAGE_SELF)
    sampler.start()
    backend = get_backend(backend_name, address, workers)
    started = time.perf_counter()
    backend.check(get_engine(engine))  # starts or joins Ray: timed apart
    backend_start_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        records = generate_works(
            count,
            size,
            seed,
            Path(folder),
            engine_name=engine,
            workers=workers,
            backend=backend,
        )
        seconds = time.perf_counter() - start
        disk = sum(p.stat().st_size for p in Path(folder).iterdir())
    sampler.stop()

    own = resource.getrusage(resource.RUSAGE_SELF)
    parent_s = own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime - sampler.own_cpu_s
    children_s = sum(sampler.cpu_s.values())
    cpu_seconds = parent_s + children_s
    parent_mib = own.ru_maxrss / 1024
    child_mib = max(sampler.peak_mib.values(), default=0.0)
    works = max(len(records), 1)
    return {
        "benchmark": "generate",
        "engine": engine,
        "backend": backend_name,
        "backend_start_s": round(backend_start_s, 2),
        "engine_version": records[0].engine_version if records else None,
        "works": len(records),
        "size_px": size,
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "seconds": round(seconds, 2),
        "works_per_s": round(len(records) / seconds, 1),
        "target_works_per_s": TARGETS.get(engine),
        # CPU time is what the work costs whatever else shares the machine; the
        # estimate below is the wall rate if every core were free for it.
        "cpu_ms_per_work": round(1000 * cpu_seconds / works, 2),
        "cpu_ms_per_work_parent": round(1000 * parent_s / works, 2),
        "cpu_ms_per_work_workers": round(1000 * children_s / works, 2),
        "works_per_s_if_cores_free": round(workers * len(records) / cpu_seconds, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "minutes_for_70k": round(70_000 / (len(records) / seconds) / 60, 2),
        "peak_rss_parent_mib": round(parent_mib, 1),
        "peak_rss_largest_worker_mib": round(child_mib, 1),
        # Upper bound: the parent's peak plus every worker at the largest worker's peak.
        "peak_rss_total_bound_mib": round(parent_mib + workers * child_mib, 1),
        "target_peak_mib": 1024,
        "mean_png_kib": round(disk / works / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--engine",
        default="cppn",
        help="cppn (target 250 works/s), flame (50), or all: a JSON list, one per engine",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backend", default="local", choices=BACKENDS)
    parser.add_argument("--address", default=None, help="with --backend ray: a Ray cluster")
    args = parser.parse_args()
    engines = list(TARGETS) if args.engine == "all" else [args.engine]
    results = [
        measure(e, args.count, args.size, args.seed, args.workers, args.backend, args.address)
        for e in engines
    ]
    json.dump(results if args.engine == "all" else results[0], sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
