"""Print digests of a pinned set of flame renders; run as a script in a subprocess,
so the environment (NPY_DISABLE_CPU_FEATURES, NUMBA_CPU_NAME) can imitate another CPU.

Usage: python flame_digest.py [VERSION]
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from tastemaker.generate.flame import FlameEngine


def digests(version: str, count: int = 12) -> dict[str, str]:
    engine = FlameEngine(version)
    pixels, pngs, genomes = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    for i in range(count):
        rng = np.random.default_rng([2026, i])
        genome = engine.random(rng)
        child = engine.crossover(engine.mutate(genome, rng), engine.random(rng), rng)
        for g in (genome, child):
            genomes.update(g.id.encode())
            for size in (48, 97):
                image = engine.render(g, size)
                pixels.update(image.tobytes())
                pngs.update(engine.encode(image))
            pixels.update(str(engine.screen(engine.render(g, 64))).encode())
    return {"pixels": pixels.hexdigest(), "png": pngs.hexdigest(), "genomes": genomes.hexdigest()}


if __name__ == "__main__":
    json.dump(digests(sys.argv[1] if len(sys.argv) > 1 else FlameEngine.version), sys.stdout)
