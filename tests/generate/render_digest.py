"""Print digests of a pinned set of renders; run as a script in a subprocess, so the
environment (NPY_DISABLE_CPU_FEATURES, NUMBA_CPU_NAME) can imitate another CPU.

Usage: python render_digest.py VERSION
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from tastemaker.generate.cppn.engine import CPPNEngine
from tastemaker.store.media import encode_png


def digests(version: str) -> dict[str, str]:
    engine = CPPNEngine(version)
    pixels, pngs, genomes = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    parents = hashlib.sha256()  # the 24 random genomes alone, as recorded since 1.0
    for i in range(24):
        rng = np.random.default_rng([2026, i])
        genome = engine.random(rng)
        # Children too: mutation and crossover must propose the same genomes everywhere.
        child = engine.crossover(engine.mutate(genome, rng), engine.random(rng), rng)
        for g in (genome, child):
            genomes.update(g.id.encode())
            for size in (48, 97):
                image = engine.render(g, size)
                if g is genome:
                    parents.update(image.tobytes())
                pixels.update(image.tobytes())
                pngs.update(encode_png(image))
            pixels.update(str(engine.screen(engine.render(g, 64))).encode())
    return {
        "pixels": pixels.hexdigest(),
        "parents": parents.hexdigest(),
        "png": pngs.hexdigest(),
        "genomes": genomes.hexdigest(),
    }


if __name__ == "__main__":
    json.dump(digests(sys.argv[1]), sys.stdout)
