"""The flame engine: same genome and size -> same bytes, whatever the CPU (imitated
as in test_cross_cpu.py: numpy and numba told to act as older CPUs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tastemaker.generate.flame import FlameEngine
from tests.generate.test_cross_cpu import cpu_variants

SCRIPT = Path(__file__).with_name("flame_digest.py")

# Each flame version's renders of the pinned set: changing a pixel means a new engine
# version, and the old versions must keep rendering their works' bytes.
RENDERS = {
    "1.0": {
        "pixels": "587f629e80c5635244977f417b96f7dba5d2d215ca73b320cf2fb72c831f7444",
        "png": "53920a5f46e531e00c988ea52c0435bd5eba53832218eed8ba7774a58cd56726",
        "genomes": "b118e33ac2a5fe557334117efabb3f240405ec986078ef9ac0f6dacfbce63670",
    },
    # 1.1: 256 walkers in lockstep, every symmetry copy plotted, PNGs in zlib's RLE strategy.
    "1.1": {
        "pixels": "616e960fa002a78a3d8a5ff1dc84d07041f0d6c35b0c64f0638ff8f5b6916106",
        "png": "9aa8794360320deb953041dadde5c3585c4faeb001815320e357254ce949d85a",
        "genomes": "b118e33ac2a5fe557334117efabb3f240405ec986078ef9ac0f6dacfbce63670",
    },
}


def _digests(version: str, env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NPY_", "NUMBA_CPU"))}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), version],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("version", sorted(RENDERS))
def test_flame_gives_the_same_bytes_under_every_cpu_feature_set(version: str) -> None:
    results = {name: _digests(version, env) for name, env in cpu_variants().items()}
    assert len(results) >= 2
    for name, digest in results.items():
        assert digest == RENDERS[version], (
            f"flame {version} renders under {name} differ from the pinned ones"
        )


def test_every_flame_version_has_pinned_renders() -> None:
    assert set(FlameEngine.versions) == set(RENDERS)
