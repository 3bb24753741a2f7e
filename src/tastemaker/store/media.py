"""A content-addressed media store: each file is named by its IPFS CIDv1.

The CID uses the ``raw`` codec over a sha2-256 digest of the whole file (what
``ipfs add --cid-version 1 --raw-leaves`` gives for a single-block file, up to
256 KiB). No IPFS daemon is needed; the sha256 hex digest is kept too.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from multiformats import CID

from tastemaker.errors import MediaError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_FILTER_UP = 2
# zlib level 1 with the "up" filter: half Pillow's encoding time at a smaller size
# (docs/decisions/0001-png-encoder.md); fixed settings make the bytes reproducible.
_ZLIB_LEVEL = 1


@dataclass(frozen=True)
class StoredMedia:
    cid: str
    sha256: str
    path: Path
    size_bytes: int


def cid_for_bytes(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return str(CID("base32", 1, "raw", ("sha2-256", digest)))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes for an (H, W, 3) uint8 array: 8-bit RGB, no metadata, no timestamps."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise MediaError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
    height, width, _ = image.shape
    rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
    rows[:, 0] = _PNG_FILTER_UP
    filtered = rows[:, 1:].reshape(height, width, 3)
    filtered[0] = image[0]
    np.subtract(image[1:], image[:-1], out=filtered[1:])  # wraps modulo 256, as PNG wants
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), _ZLIB_LEVEL)),
            _png_chunk(b"IEND", b""),
        ]
    )


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent or complete, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; media is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class MediaStore:
    """Files under ``root`` named ``<cid>.<ext>``; writing the same content twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, cid: str, ext: str = "png") -> Path:
        return self.root / f"{cid}.{ext}"

    def put_bytes(self, data: bytes, ext: str = "png") -> StoredMedia:
        cid = cid_for_bytes(data)
        path = self.path_for(cid, ext)
        if not path.exists():
            try:
                write_atomic(path, data)
            except OSError as exc:
                raise MediaError(f"cannot write {path}: {exc.strerror}") from exc
        return StoredMedia(cid, hashlib.sha256(data).hexdigest(), path, len(data))

    def put_image(self, image: np.ndarray) -> StoredMedia:
        return self.put_bytes(encode_png(image), "png")

    def get_bytes(self, cid: str, ext: str = "png") -> bytes:
        path = self.path_for(cid, ext)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise MediaError(f"no media with cid {cid} in {self.root}") from exc
        if cid_for_bytes(data) != cid:
            raise MediaError(f"{path} is corrupt: its content does not match its cid")
        return data
