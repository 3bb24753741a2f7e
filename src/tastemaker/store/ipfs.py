"""Finding stored content by IPFS CID: what the app's ``/ipfs/<cid>`` gateway serves.

The media store names every file ``<cid>.<ext>`` (store/media.py): raw-codec CIDv1 over
sha2-256, base32. Any spelling of such a CID (another multibase) is accepted here and
turned into the store's; other codecs or hashes are simply not held.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

from multiformats import CID

from tastemaker.store.media import MediaStore

_MEDIA_TYPES = {
    "png": "image/png",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
_EXT = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class Held:
    cid: str
    media_type: str
    data: bytes


def canonical_cid(text: str) -> str | None:
    """The store's spelling of ``text``, or None when it is no raw sha2-256 CID."""
    try:
        cid = CID.decode(text)
    except (ValueError, KeyError, TypeError):
        return None
    if cid.version != 1 or cid.codec.name != "raw" or cid.hashfun.name != "sha2-256":
        return None
    return str(cid.set(base="base32"))


def find(media: MediaStore, text: str) -> Held | None:
    """The stored bytes for a CID (checked against it), or None when not held."""
    cid = canonical_cid(text)
    if cid is None:
        return None
    for path in sorted(media.root.glob(f"{cid}.*")):
        ext = path.suffix[1:]
        if not _EXT.match(ext):  # staged ".part" files and the like
            continue
        data = media.get_bytes(cid, ext)  # MediaError when the file no longer matches
        kind = _MEDIA_TYPES.get(ext) or mimetypes.guess_type(path.name)[0]
        return Held(cid, kind or "application/octet-stream", data)
    return None
