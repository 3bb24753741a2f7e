"""Where a work's CPU time goes: per-stage CPU ms per kept work, in one process.

Runs the same steps as a generation worker (propose, hash the genome, compile it,
render and screen a 64 px thumbnail, render and screen the full size, encode the
PNG, hash and stage the file, pickle the result for the parent) and times each with
``time.process_time``, so the figures hold on a shared machine. Prints JSON.

    python benchmarks/render_stages.py --engine flame --count 300
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tastemaker.generate.batch import propose
from tastemaker.generate.image import PRESCREEN_SIZE
from tastemaker.generate.registry import get_engine
from tastemaker.store.media import MediaStore

STAGES = (
    "propose",
    "genome_id",
    "compile",
    "prescreen_render",
    "prescreen_screen",
    "render",
    "screen",
    "png",
    "hash_and_stage",
    "pickle",
)


def measure(engine_name: str, count: int, size: int, seed: int) -> dict[str, object]:
    engine = get_engine(engine_name)
    warm = engine.random(np.random.default_rng(0))
    engine.screen(engine.render(warm, PRESCREEN_SIZE))  # numba loads its kernels here
    compile_genome = getattr(engine, "_network", None) or engine._compile
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time
    kept = 0
    with tempfile.TemporaryDirectory() as folder:
        store = MediaStore(Path(folder))
        started = clock()
        for index in range(count):
            t0 = clock()
            genome = propose(engine, np.random.default_rng([seed, index]), ())
            t1 = clock()
            genome.id  # noqa: B018 - cached on the genome, as a worker computes it
            t2 = clock()
            compile_genome(genome)
            t3 = clock()
            thumbnail = engine.render(genome, PRESCREEN_SIZE)
            t4 = clock()
            passed = engine.screen(thumbnail)
            t5 = clock()
            took = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)
            for stage, seconds in zip(STAGES[:5], took, strict=True):
                spent[stage] += seconds
            if not passed:
                continue
            image = engine.render(genome, size)
            t6 = clock()
            passed = engine.screen(image)
            t7 = clock()
            spent["render"] += t6 - t5
            spent["screen"] += t7 - t6
            if not passed:
                continue
            data = engine.encode(image)
            t8 = clock()
            staged = store.stage(data, "png")
            t9 = clock()
            pickle.dumps((genome, staged, "image/png"))
            t10 = clock()
            spent["png"] += t8 - t7
            spent["hash_and_stage"] += t9 - t8
            spent["pickle"] += t10 - t9
            kept += 1
        total = clock() - started
    per_work = max(kept, 1)
    return {
        "benchmark": "render_stages",
        "engine": engine_name,
        "engine_version": engine.version,
        "size_px": size,
        "candidates": count,
        "kept": kept,
        "cpu_ms_per_kept_work": {k: round(1000 * v / per_work, 3) for k, v in spent.items()},
        "cpu_ms_per_kept_work_total": round(1000 * total / per_work, 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="cppn")
    parser.add_argument("--count", type=int, default=1000, help="candidates proposed")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    json.dump(measure(args.engine, args.count, args.size, args.seed), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
