"""Contact sheets: a grid of works for people to look at."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from PIL import Image, ImageOps

from tastemaker.errors import MediaError, UsageError
from tastemaker.store.media import write_atomic

MAX_TILES = 64


def works_in(folder: Path) -> list[Path]:
    """The images of a generated folder, in manifest order when there is a manifest."""
    manifest = folder / "manifest.jsonl"
    if manifest.exists():
        paths = []
        for number, line in enumerate(manifest.read_text().splitlines(), start=1):
            try:
                paths.append(folder / json.loads(line)["file"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise MediaError(f"{manifest}:{number} is not a valid manifest line") from exc
        return paths
    return sorted(folder.glob("*.png"))


def contact_sheet(folder: Path, out: Path, tile: int = 192, gap: int = 6) -> int:
    """Write a grid of up to 64 works from ``folder`` to ``out``; returns the tile count."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    paths = works_in(folder)[:MAX_TILES]
    if not paths:
        raise UsageError(f"no works (PNG files) in {folder}")
    columns = math.ceil(math.sqrt(len(paths)))
    rows = math.ceil(len(paths) / columns)
    sheet = Image.new(
        "RGB", (columns * (tile + gap) + gap, rows * (tile + gap) + gap), (18, 18, 20)
    )
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                thumb = ImageOps.fit(image.convert("RGB"), (tile, tile), Image.Resampling.LANCZOS)
        except OSError as exc:
            raise MediaError(f"cannot read image {path}: {exc}") from exc
        row, column = divmod(i, columns)
        sheet.paste(thumb, (gap + column * (tile + gap), gap + row * (tile + gap)))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    try:
        write_atomic(out, buffer.getvalue())
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from exc
    return len(paths)
