"""A feature cache keyed by content id: one small .npy file per (embedder, content id)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from tastemaker.settings import get_settings
from tastemaker.store.media import write_atomic

_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def default_cache_dir() -> Path:
    return get_settings().home / "features"


class FeatureCache:
    """Vectors under ``root/<embedder>/<content id>.npy``; unsafe ids are hashed first."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def _path(self, embedder: str, content_id: str) -> Path:
        name = (
            content_id
            if _SAFE.match(content_id)
            else hashlib.sha256(content_id.encode()).hexdigest()
        )
        return self.root / embedder / f"{name}.npy"

    def get(self, embedder: str, content_id: str) -> np.ndarray | None:
        path = self._path(embedder, content_id)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, embedder: str, content_id: str, vector: np.ndarray) -> None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.asarray(vector, dtype=np.float32), allow_pickle=False)
        write_atomic(self._path(embedder, content_id), buffer.getvalue())
