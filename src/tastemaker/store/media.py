"""A content-addressed media store: each file is named by its IPFS CIDv1.

The CID uses the ``raw`` codec over a sha2-256 digest of the whole file (what
``ipfs add --cid-version 1 --raw-leaves`` gives for a single-block file, up to
256 KiB). No IPFS daemon is needed; the sha256 hex digest is kept too.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from multiformats import CID

from tastemaker.core.media import IMAGE_PNG, extension
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


# The binary CID is this fixed prefix (version 1, codec raw, multihash sha2-256 of 32
# bytes), taken from the multiformats library, followed by the digest. Building a CID
# object validates every field (~0.5 ms, a sizeable share of generating one work), so
# the string is the multibase "b" (base32, lowercase, unpadded) of prefix + digest.
# tests/store/test_media.py checks this against the library on random inputs.
_CID_PREFIX = bytes(CID("base32", 1, "raw", ("sha2-256", bytes(32))))[:-32]


def cid_for_digest(digest: bytes) -> str:
    """The CIDv1 (raw, sha2-256, base32) of content whose sha256 is ``digest``."""
    if len(digest) != 32:
        raise ValueError(f"a sha2-256 digest has 32 bytes, got {len(digest)}")
    return "b" + base64.b32encode(_CID_PREFIX + digest).decode("ascii").lower().rstrip("=")


def cid_for_bytes(data: bytes) -> str:
    return cid_for_digest(hashlib.sha256(data).digest())


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _deflate(data: bytes, strategy: int) -> bytes:
    if strategy == zlib.Z_DEFAULT_STRATEGY:
        return zlib.compress(data, _ZLIB_LEVEL)
    packer = zlib.compressobj(_ZLIB_LEVEL, zlib.DEFLATED, 15, 8, strategy)
    return packer.compress(data) + packer.flush()


def encode_png(image: np.ndarray, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> bytes:
    """PNG bytes for an (H, W, 3) uint8 array: 8-bit RGB, no metadata, no timestamps.

    ``strategy`` is zlib's: the default, or e.g. ``zlib.Z_RLE``, which is about twice
    as fast on mostly black images (flame 1.1). It changes the bytes: an engine that
    picks one treats it as part of its version.
    """
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
            _png_chunk(b"IDAT", _deflate(rows.tobytes(), strategy)),
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


@dataclass(frozen=True)
class StagedMedia:
    """Content written under a temporary name in the store, not yet a stored file."""

    cid: str
    sha256: str
    ext: str
    temp: Path
    size_bytes: int


class MediaStore:
    """Files under ``root`` named ``<cid>.<ext>``; writing the same content twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, cid: str, ext: str = "png") -> Path:
        return self.root / f"{cid}.{ext}"

    def media_path(self, cid: str, media_type: str = IMAGE_PNG) -> Path:
        """Where a work of ``media_type`` is stored: ``<cid>.png``, ``<cid>.txt``, ..."""
        return self.path_for(cid, extension(media_type))

    def put_bytes(self, data: bytes, ext: str = "png") -> StoredMedia:
        digest = hashlib.sha256(data).digest()
        cid = cid_for_digest(digest)
        path = self.path_for(cid, ext)
        if not path.exists():
            try:
                write_atomic(path, data)
            except OSError as exc:
                raise MediaError(f"cannot write {path}: {exc.strerror}") from exc
        return StoredMedia(cid, digest.hex(), path, len(data))

    def stage(self, data: bytes, ext: str = "png") -> StagedMedia:
        """Write ``data`` under a hidden temporary name; ``commit`` or ``discard`` it.

        Lets worker processes hash and write files in parallel while one process
        decides which of them become works (a staged file never looks like one).
        """
        digest = hashlib.sha256(data).digest()
        cid = cid_for_digest(digest)
        try:
            fd, temp = tempfile.mkstemp(dir=self.root, prefix=f".{cid}.", suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temp, 0o644)
        except OSError as exc:
            raise MediaError(f"cannot write to {self.root}: {exc.strerror}") from exc
        return StagedMedia(cid, digest.hex(), ext, Path(temp), len(data))

    def commit(self, staged: StagedMedia) -> StoredMedia:
        path = self.path_for(staged.cid, staged.ext)
        try:
            os.replace(staged.temp, path)  # same content if it existed: replacing is harmless
        except OSError as exc:
            raise MediaError(f"cannot write {path}: {exc.strerror}") from exc
        return StoredMedia(staged.cid, staged.sha256, path, staged.size_bytes)

    def discard(self, staged: StagedMedia) -> None:
        staged.temp.unlink(missing_ok=True)

    def discard_all_staged(self) -> None:
        """Remove staged files left behind (by an interrupted run)."""
        for temp in self.root.glob(".*.part"):
            temp.unlink(missing_ok=True)

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
