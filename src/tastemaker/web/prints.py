"""Print-size renders of works, made on first request and cached by content."""

from __future__ import annotations

import threading
from pathlib import Path

from tastemaker.generate.genome import Genome
from tastemaker.generate.registry import get_engine
from tastemaker.store.media import encode_png, write_atomic

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def print_path(root: Path, content_hash: bytes, engine_version: str, size: int) -> Path:
    # The render is a pure function of (genome, size, engine version): so is the name.
    return root / "prints" / f"{content_hash.hex()}-{engine_version}-{size}.png"


def render_print(genome: Genome, version: str, path: Path, size: int) -> Path:
    """Render ``genome`` with engine ``version`` at ``size`` px into ``path`` unless it
    is there already."""
    with _guard:
        lock = _locks.setdefault(str(path), threading.Lock())
    with lock:  # one render per file even when several people ask at once
        if not path.exists():
            image = get_engine(genome.engine, version).render(genome, size)
            write_atomic(path, encode_png(image))
    return path
