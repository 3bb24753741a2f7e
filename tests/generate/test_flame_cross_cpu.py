"""The flame engine: same genome and size -> same bytes, whatever the CPU (imitated
as in test_cross_cpu.py: numpy and numba told to act as older CPUs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.generate.test_cross_cpu import cpu_variants

SCRIPT = Path(__file__).with_name("flame_digest.py")

# Flame 1.0's renders of the pinned set: changing a pixel means a new engine version.
RENDERS_FLAME_1_0 = {
    "pixels": "27141595c9fc054718d749ff4ecde8f2a8ba52e2aa2af433a8c76c22e434aec2",
    "png": "e51f3cb2a96a5580b9a2034f5755a4e445b6ce2813fd3ecc18da863cc309a9b3",
    "genomes": "6001dcf14f4f48026c040c6d205e24470c0f058cead971c23f0bb232dca74a56",
}


def _digests(env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NPY_", "NUMBA_CPU"))}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_flame_1_0_gives_the_same_bytes_under_every_cpu_feature_set() -> None:
    results = {name: _digests(env) for name, env in cpu_variants().items()}
    assert len(results) >= 2
    for name, digest in results.items():
        assert digest == RENDERS_FLAME_1_0, (
            f"flame renders under {name} differ from the pinned ones"
        )
