from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own TASTEMAKER_HOME so none touches the user's state."""
    monkeypatch.setenv("TASTEMAKER_HOME", str(tmp_path / "home"))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``tastemaker`` entry point in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "tastemaker", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
