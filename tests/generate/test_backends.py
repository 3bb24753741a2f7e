"""Generation backends: the Ray backend makes byte for byte the works of the local one.

The Ray tests start a real local Ray (2 CPUs, no dashboard); they need the ``ray``
extra, which ``make test`` installs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tastemaker.errors import UsageError
from tastemaker.generate.backends import LocalBackend, get_backend
from tastemaker.generate.batch import generate_works
from tastemaker.generate.registry import get_engine
from tests.conftest import run_cli


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "size"), [("cppn", 64), ("flame", 96)])
def test_ray_backend_makes_the_local_backends_files(local_ray, tmp_path, engine, size) -> None:
    local = generate_works(40, size, 5, tmp_path / "local", engine_name=engine, workers=2)
    on_ray = generate_works(
        40, size, 5, tmp_path / "ray", engine_name=engine, backend=get_backend("ray")
    )
    assert on_ray == local
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")  # manifest included
    assert not any(n.startswith(".") for n in _files(tmp_path / "ray"))  # no staged file left
    assert local_ray.is_initialized()  # the caller's Ray is used and left open

    # Children of parents (mutation and crossover) too.
    parents = [r.to_genome() for r in local[:4]]
    bred_local = generate_works(
        40, size, 6, tmp_path / "bred-local", engine_name=engine, parents=parents, workers=1
    )
    bred_ray = generate_works(
        40,
        size,
        6,
        tmp_path / "bred-ray",
        engine_name=engine,
        parents=parents,
        backend=get_backend("ray"),
    )
    assert bred_ray == bred_local and any(r.parents for r in bred_ray)
    assert _files(tmp_path / "bred-ray") == _files(tmp_path / "bred-local")


@pytest.mark.slow
def test_cli_generate_backend_ray_equals_local(tmp_path) -> None:
    pytest.importorskip("ray")
    args = ["generate", "--count", "40", "--size", "64", "--seed", "9", "--workers", "2"]
    local = run_cli(*args, "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    on_ray = run_cli(*args, "--out", str(tmp_path / "ray"), "--backend", "ray")  # starts a Ray
    assert on_ray.returncode == 0, on_ray.stderr
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    assert len(_files(tmp_path / "ray")) == 41


def _one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, never a traceback
    assert lines[0].startswith("error:") and fragment in lines[0], lines[0]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def test_unreachable_address_is_one_line_and_writes_nothing(tmp_path) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "works"
    address = f"127.0.0.1:{_closed_port()}"
    result = run_cli(
        "generate", "-n", "4", "--out", str(out), "--backend", "ray", "--address", address
    )
    _one_line_error(result, f"cannot reach the Ray cluster at {address}")
    assert not out.exists()


def test_without_ray_backend_ray_is_one_line(tmp_path) -> None:
    out = tmp_path / "works"
    # Ray hidden from the import system, as on an install without the extra.
    code = "import sys; sys.modules['ray'] = None; from tastemaker.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "generate", "-n", "4", "--out", str(out), "--backend", "ray"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )
    _one_line_error(result, "pip install 'tastemaker[ray]'")
    assert not out.exists()


def test_backend_arguments_are_checked(tmp_path) -> None:
    out = str(tmp_path / "works")
    _one_line_error(
        run_cli("generate", "-n", "4", "--out", out, "--backend", "spark"), "unknown backend"
    )
    _one_line_error(
        run_cli("generate", "-n", "4", "--out", out, "--address", "10.0.0.1:6379"),
        "use it with --backend ray",
    )
    with pytest.raises(UsageError, match="host:port"):
        get_backend("ray", "no-port").check(get_engine("cppn"))


def test_an_engine_holding_a_model_stays_local() -> None:
    pytest.importorskip("ray")
    with pytest.raises(UsageError, match="local backend"):
        get_backend("ray").check(get_engine("diffusion"))  # refused before Ray starts
    LocalBackend().check(get_engine("diffusion"))
