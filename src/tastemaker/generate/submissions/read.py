"""Read submitted works, all-or-nothing: every file is checked before any is stored.

A folder of images (PNG, JPEG, WebP, GIF, BMP, TIFF; each decoded, bounded and
re-encoded as the store's deterministic RGB PNG), or texts in a CSV (``item_id,text``)
or JSON lines (``{"item_id": ..., "text": ...}``, optionally ``"media_type":
"text/markdown"``). Any bad entry stops the import with one line naming it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tastemaker.core.media import IMAGE_PNG, TEXT_PLAIN, TEXT_TYPES, Media, decode_text
from tastemaker.errors import MediaError, UsageError
from tastemaker.generate.engine import MAX_SIZE
from tastemaker.store.media import encode_png

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024
MAX_TEXT_FILE_BYTES = 256 * 1024 * 1024
MAX_ITEM_ID = 200


@dataclass(frozen=True)
class Submission:
    item_id: str
    media: Media


def read_submissions(source: Path) -> list[Submission]:
    """Every work in ``source`` (a folder of images, a .csv or a .jsonl of texts)."""
    if source.is_dir():
        items = _read_images(source)
    elif not source.exists():
        raise UsageError(f"cannot read {source}: no such file or folder")
    elif source.suffix.lower() == ".csv":
        items = _read_csv(source, _text_file(source))
    elif source.suffix.lower() in (".jsonl", ".ndjson"):
        items = _read_jsonl(source, _text_file(source))
    else:
        raise UsageError(
            f"cannot import {source}: give a folder of images, a .csv or a .jsonl of texts"
        )
    if not items:
        raise UsageError(f"{source} holds no works to import")
    seen: set[str] = set()
    for item in items:
        if item.item_id in seen:
            raise UsageError(f"{source}: item_id {item.item_id!r} appears twice")
        seen.add(item.item_id)
    return items


def _text_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_FILE_BYTES:
            raise UsageError(f"{path} is {size:,} bytes; the limit is {MAX_TEXT_FILE_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path} is not UTF-8 (line {line}, byte {exc.start})") from None


def _item_id(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UsageError(f"{where}: item_id must be a string or an integer")
    item_id = str(value).strip()
    if not item_id or len(item_id) > MAX_ITEM_ID:
        raise UsageError(f"{where}: item_id must be 1 to {MAX_ITEM_ID} characters")
    return item_id


def _text(item_id: str, text: object, media_type: str, where: str) -> Submission:
    if not isinstance(text, str):
        raise UsageError(f"{where}: text must be a string")
    try:
        decode_text(text.encode("utf-8"), f"{where}: the text")
        return Submission(item_id, Media.from_text(text, media_type))
    except MediaError as exc:
        raise UsageError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None


def _read_csv(path: Path, content: str) -> list[Submission]:
    reader = csv.DictReader(io.StringIO(content, newline=""), strict=True)
    missing = {"item_id", "text"} - set(reader.fieldnames or [])
    if missing:
        raise UsageError(
            f"{path} needs the columns item_id,text; missing {', '.join(sorted(missing))}"
        )
    items = []
    try:
        for row in reader:
            where = f"{path} line {reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                raise UsageError(f"{where}: expected {len(reader.fieldnames or [])} columns")
            items.append(_text(_item_id(row["item_id"], where), row["text"], TEXT_PLAIN, where))
    except csv.Error as exc:
        raise UsageError(f"{path} line {reader.line_num} is not valid CSV: {exc}") from None
    return items


def _read_jsonl(path: Path, content: str) -> list[Submission]:
    items = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise UsageError(f"{where} is not JSON: {getattr(exc, 'msg', exc)}") from None
        if not isinstance(value, dict) or not {"item_id", "text"} <= value.keys():
            raise UsageError(f"{where}: expected an object with item_id and text")
        media_type = value.get("media_type", TEXT_PLAIN)
        if media_type not in TEXT_TYPES:
            raise UsageError(f"{where}: media_type must be one of {', '.join(sorted(TEXT_TYPES))}")
        items.append(_text(_item_id(value["item_id"], where), value["text"], media_type, where))
    return items


def _read_images(folder: Path) -> list[Submission]:
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    others = [p.name for p in files if p.is_dir() or p.suffix.lower() not in IMAGE_SUFFIXES]
    if others:
        raise UsageError(
            f"{folder} holds files that are not images: {', '.join(others[:5])}"
            + (" …" if len(others) > 5 else "")
        )
    return [Submission(p.name, Media(encode_png(_load_image(p)), IMAGE_PNG)) for p in files]


def _load_image(path: Path) -> np.ndarray:
    """An RGB array, after checking the file's size and the image's declared size."""
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_FILE_BYTES:
            raise UsageError(f"{path} is {size:,} bytes; the limit is {MAX_IMAGE_FILE_BYTES:,}")
        with Image.open(path) as img:
            # The header's size is checked before any pixel is decoded (a PNG bomb
            # declares 20000 x 20000 in a few hundred bytes).
            if max(img.size) > MAX_SIZE:
                w, h = img.size
                raise UsageError(f"{path} is {w}x{h}; the limit is {MAX_SIZE} pixels a side")
            img.load()
            return np.asarray(img.convert("RGB"))
    except UsageError:
        raise
    except Image.DecompressionBombError:
        raise UsageError(
            f"{path} is too large an image; the limit is {MAX_SIZE} pixels a side"
        ) from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise UsageError(f"cannot read image {path}: {exc}") from None
