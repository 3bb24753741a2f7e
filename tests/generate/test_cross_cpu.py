"""Same genome, size and engine version -> same bytes, whatever the CPU.

numpy picks SIMD kernels (AVX-512, AVX2, SSE) at import and numba compiles for the
host CPU; both can be told to act as an older CPU, which is how these tests imitate
other machines on this one. Engine 2.0 must give identical bytes under each.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tastemaker.errors import UsageError
from tastemaker.generate import get_engine

SCRIPT = Path(__file__).with_name("render_digest.py")

# Engine 2.0's renders of the pinned set: changing a pixel means a new engine version.
RENDERS_V2_0 = {
    "pixels": "c31f016607f338cf33bc28ffefd4a35cea85fc696e1d3b122ac8e80ff522dc38",
    "parents": "a0e4f2ab51c707bfe88056abea47e70d86e2844da6e718db118d5a2b16655f88",
    "png": "71bc59722c07ff8ba76939ca6245437c09e2babf98cdc88cfe1dd46a2806ee0c",
    "genomes": "5783dc08b9fc87d48347fcc94b8f4a8b27ef9a46ae081a2724de787408df7e3d",
}
# Engine 1.0's renders of the 24 random genomes, as recorded on an AVX2 machine when
# 1.0 was current (1.0 depends on numpy's SIMD kernels).
RENDERS_V1_0_PARENTS = "62a172bdce61d97d93abefb1bd93f6fd84dcb69a47f7bd95c47ca5cbe93da53c"


def _has_avx2() -> bool:
    try:
        return " avx2 " in Path("/proc/cpuinfo").read_text().replace("\n", " ")
    except OSError:
        return False


def cpu_variants() -> dict[str, dict[str, str]]:
    """Environments that imitate other CPUs, by name."""
    variants: dict[str, dict[str, str]] = {"host": {}}
    if platform.machine() in ("x86_64", "AMD64"):
        if _has_avx2():  # an AVX2 machine without AVX-512
            variants["avx2"] = {"NPY_DISABLE_CPU_FEATURES": "X86_V4", "NUMBA_CPU_NAME": "haswell"}
        # plain x86-64: no AVX at all, SSE only
        variants["sse"] = {"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4", "NUMBA_CPU_NAME": "generic"}
    else:
        variants["generic"] = {"NUMBA_CPU_NAME": "generic"}
    return variants


def _digests(version: str, env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NPY_", "NUMBA_CPU"))}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), version],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_engine_2_0_gives_the_same_bytes_under_every_cpu_feature_set() -> None:
    results = {name: _digests("2.0", env) for name, env in cpu_variants().items()}
    assert len(results) >= 2
    for name, digest in results.items():
        assert digest == RENDERS_V2_0, f"renders under {name} differ from the recorded ones"


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="recorded on x86-64")
def test_engine_1_0_still_renders_its_recorded_pixels_on_an_avx2_or_older_cpu() -> None:
    # 1.0 used numpy's SIMD functions: its recorded pixels are those of an AVX2 machine,
    # so AVX-512 is turned off here (on AVX-512 machines 1.0's bytes differ; see 0025).
    if not _has_avx2():
        pytest.skip("engine 1.0's pixels were recorded with AVX2")
    env = {"NPY_DISABLE_CPU_FEATURES": "X86_V4"}
    assert _digests("1.0", env)["parents"] == RENDERS_V1_0_PARENTS


def test_the_registry_renders_a_stored_work_with_the_version_that_made_it() -> None:
    assert get_engine("cppn").version == "2.0"
    assert get_engine("cppn", "1.0").version == "1.0"
    with pytest.raises(UsageError, match=r"no version '9\.9'"):
        get_engine("cppn", "9.9")


def test_engine_2_0_draws_engine_1_0s_pictures() -> None:
    """The new version changes float rounding, not the art: nearly every pixel agrees
    with 1.0 to within a few levels of 255."""
    old, new = get_engine("cppn", "1.0"), get_engine("cppn")
    for i in range(20):
        genome = new.random(np.random.default_rng([11, i]))
        a = old.render(genome, 96).astype(int)
        b = new.render(genome, 96).astype(int)
        assert (np.abs(a - b).max(axis=2) > 8).mean() < 0.01
