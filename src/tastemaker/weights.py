"""The identity of a local weights directory: a sha256 over its files, computed once.

Hashing a Stable Diffusion XL or Flux directory reads 7-30 GB, so the digest is kept
in ``<home>/cache/weights.json`` under a fingerprint of the directory's listing (each
file's path, size and modification time); it is recomputed only when that changes.
Hidden files and folders (``.cache``, ``.git``, the hub's ``.no_exist``) are not part
of the weights and are skipped. Symbolic links are followed, as in the hub's cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tastemaker.errors import UsageError
from tastemaker.settings import get_settings
from tastemaker.store.media import write_atomic

CACHE_FILE = "weights.json"
_CHUNK = 8 * 1024 * 1024

_memo: dict[tuple[str, str], str] = {}


def weight_files(directory: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, path) of every regular file, sorted, hidden ones left out."""
    if not directory.is_dir():
        raise UsageError(f"weights directory {directory} does not exist or is not a directory")
    found = []
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(root) / name
            if path.is_file():
                found.append((path.relative_to(directory).as_posix(), path))
    if not found:
        raise UsageError(f"weights directory {directory} holds no files")
    return sorted(found)


def _fingerprint(files: list[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for rel, path in files:
        st = path.stat()
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _digest(files: list[tuple[str, Path]]) -> str:
    """sha256 over "relative path NUL sha256(file) LF" lines, in path order."""
    whole = hashlib.sha256()
    for rel, path in files:
        one = hashlib.sha256()
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    one.update(chunk)
        except OSError as exc:
            raise UsageError(f"cannot read weights file {path}: {exc.strerror or exc}") from exc
        whole.update(f"{rel}\0{one.hexdigest()}\n".encode())
    return whole.hexdigest()


def _cache_path() -> Path:
    return get_settings().home / "cache" / CACHE_FILE


def _read_cache(path: Path) -> dict[str, dict[str, str]]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # absent or damaged: it is only a cache
    return value if isinstance(value, dict) else {}


def weights_hash(directory: Path) -> str:
    """The hex sha256 identity of the weights in ``directory`` (cached; see module doc)."""
    directory = directory.expanduser().resolve()
    files = weight_files(directory)
    key = (str(directory), _fingerprint(files))
    if key in _memo:
        return _memo[key]
    cache_path = _cache_path()
    cache = _read_cache(cache_path)
    entry = cache.get(key[0])
    if isinstance(entry, dict) and entry.get("fingerprint") == key[1]:
        digest = str(entry.get("sha256", ""))
        if len(digest) == 64:
            _memo[key] = digest
            return digest
    digest = _digest(files)
    cache[key[0]] = {"fingerprint": key[1], "sha256": digest}
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache_path, json.dumps(cache, indent=1, sort_keys=True).encode())
    except OSError:
        pass  # a read-only home still works, it just hashes again next time
    _memo[key] = digest
    return digest
