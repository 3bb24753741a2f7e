"""The `text` extra installs anywhere: its dependency closure holds no torch and no
nvidia-* package (issue 13 item 8, decision 0063)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _forbidden(name: str) -> bool:
    name = canonicalize_name(name)
    return name == "torch" or name.startswith("nvidia-") or name == "triton"


def _project_requirements(extras: set[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in sorted(extras):
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def _closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements pull, by the installed packages' metadata
    (name -> who asked for it), with markers evaluated for this platform."""
    env = default_environment()
    seen: dict[str, str] = {}
    todo = [(r, "tastemaker", frozenset()) for r in requirements]
    while todo:
        req, parent, parent_extras = todo.pop()
        marker_envs = [env | {"extra": e} for e in parent_extras] or [env | {"extra": ""}]
        if req.marker and not any(req.marker.evaluate(e) for e in marker_envs):
            continue
        name = canonicalize_name(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen[key] = parent
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} (needed by {parent}) is not installed: cannot inspect it")
        todo += [(Requirement(r), name, frozenset(req.extras)) for r in dist.requires or []]
    return {k.split("[")[0]: v for k, v in seen.items()}


@pytest.mark.parametrize("extras", [{"text"}, {"dev", "text"}])
def test_text_extra_closure_has_no_torch(extras) -> None:
    # `make run` installs dev + text: neither may reach torch or a CUDA package.
    closure = _closure(_project_requirements(extras))
    assert "tokenizers" in closure and "safetensors" in closure
    bad = {name: parent for name, parent in closure.items() if _forbidden(name)}
    assert not bad, f"pulled in (package: needed by): {bad}"


def test_the_check_sees_torch_where_it_is() -> None:
    # The same walk over the diffusion extra finds torch: the check above can fail.
    closure = _closure(_project_requirements({"diffusion"}))
    assert "torch" in closure


@pytest.mark.slow
def test_pip_resolves_text_extra_without_torch(tmp_path) -> None:
    """What a clean `pip install '.[text]'` would install, as pip resolves it today."""
    report = tmp_path / "report.json"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--quiet", "--report", str(report), f"{ROOT}[text]"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if out.returncode != 0 and (
        "NewConnectionError" in out.stderr or "Could not find a version" in out.stderr
    ):
        pytest.skip(f"the package index is not reachable: {out.stderr.strip()[-200:]}")
    assert out.returncode == 0, out.stderr[-2000:]
    names = {
        canonicalize_name(item["metadata"]["name"])
        for item in json.loads(report.read_text())["install"]
    }
    assert {"tastemaker", "tokenizers", "safetensors", "numpy"} <= names
    assert not {n for n in names if _forbidden(n)}, sorted(n for n in names if _forbidden(n))
