"""The identity of a weights directory: a sha256 over its files, cached by listing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tastemaker import weights
from tastemaker.errors import UsageError
from tastemaker.weights import weights_hash


def _folder(root: Path) -> Path:
    (root / "unet").mkdir(parents=True)
    (root / "model_index.json").write_text("{}")
    (root / "unet" / "w.bin").write_bytes(b"\x00" * 1000)
    return root


def test_hash_is_stable_and_follows_content_not_hidden_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "w")
    first = weights_hash(folder)
    assert len(first) == 64
    assert weights_hash(_folder(tmp_path / "copy")) == first  # same files, same identity
    (folder / ".cache").mkdir()
    (folder / ".cache" / "lock").write_text("x")
    assert weights_hash(folder) == first
    (folder / "unet" / "w.bin").write_bytes(b"\x01" + b"\x00" * 999)
    assert weights_hash(folder) != first
    os.rename(folder / "unet" / "w.bin", folder / "unet" / "v.bin")  # names count too
    assert weights_hash(folder) not in (first, weights_hash(tmp_path / "copy"))


def test_hash_is_cached_on_disk_by_listing(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "w")
    digest = weights_hash(folder)
    cache = json.loads((Path(os.environ["TASTEMAKER_HOME"]) / "cache" / "weights.json").read_text())
    assert cache[str(folder.resolve())]["sha256"] == digest
    # A later process (no in-memory memo) reads the cache instead of the files.
    weights._memo.clear()
    cache[str(folder.resolve())]["sha256"] = "c" * 64
    (Path(os.environ["TASTEMAKER_HOME"]) / "cache" / "weights.json").write_text(json.dumps(cache))
    assert weights_hash(folder) == "c" * 64
    # Touching a file changes the listing: hashed again.
    weights._memo.clear()
    os.utime(folder / "model_index.json", ns=(1, 1))
    assert weights_hash(folder) == digest


def test_missing_or_empty_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        weights_hash(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no files"):
        weights_hash(tmp_path / "empty")
