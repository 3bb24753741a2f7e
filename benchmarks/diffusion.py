"""Diffusion engine throughput: works/s through the real generate path, printed as JSON.

With ``--weights DIR`` it measures those weights; without, a tiny random pipeline
(tastemaker.generate.diffusion.tiny), which measures the engine's own overhead
(pipeline call, PNG encoding, hashing, the store), not a real model. Runs on cuda
(float16) when torch sees a GPU, else on the CPU (float32); ``--device`` overrides.
The pipeline's load is timed apart from the works.

    python benchmarks/diffusion.py --count 8 --size 64 --steps 2
    python benchmarks/diffusion.py --weights ~/models/sd-turbo --steps 1 --guidance 0 --size 512
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="diffusers pipeline folder (default: tiny)")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--guidance", type=float, default=7.5)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        weights = args.weights
        if weights is None:
            from tastemaker.generate.diffusion.tiny import build_tiny_pipeline

            weights = build_tiny_pipeline(root / "tiny")
        os.environ.update(
            TASTEMAKER_HOME=str(root / "home"),
            TASTEMAKER_DIFFUSION_WEIGHTS=str(weights),
            TASTEMAKER_DIFFUSION_DEVICE=args.device,
            TASTEMAKER_DIFFUSION_STEPS=json.dumps([args.steps, args.steps]),
            TASTEMAKER_DIFFUSION_GUIDANCE=json.dumps([args.guidance, args.guidance]),
        )
        if args.threads:
            os.environ["TASTEMAKER_DIFFUSION_THREADS"] = str(args.threads)
        from tastemaker.generate.batch import generate_works
        from tastemaker.generate.registry import get_engine

        engine = get_engine("diffusion")
        start = time.perf_counter()
        pipeline = engine.pipeline()  # hashing the weights and loading them
        load_s = time.perf_counter() - start
        # One work first, untimed: the first call pays one-off costs (kernels, caches).
        generate_works(1, args.size, args.seed + 1, root / "warm", engine_name="diffusion")
        start = time.perf_counter()
        records = generate_works(
            args.count, args.size, args.seed, root / "out", engine_name="diffusion"
        )
        elapsed = time.perf_counter() - start
        import torch

        result = {
            "benchmark": "diffusion",
            "weights": "tiny random pipeline" if args.weights is None else str(args.weights),
            "device": pipeline.device,
            "device_name": (
                torch.cuda.get_device_name(pipeline.device)
                if pipeline.device.startswith("cuda")
                else "cpu"
            ),
            "dtype": pipeline.dtype,
            "torch_threads": torch.get_num_threads(),
            "steps": args.steps,
            "guidance": args.guidance,
            "size": args.size,
            "works": len(records),
            "load_s": round(load_s, 3),
            "seconds": round(elapsed, 3),
            "works_per_s": round(len(records) / elapsed, 3),
            "s_per_work": round(elapsed / len(records), 4),
            "python": sys.version.split()[0],
            "torch": torch.__version__,
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
