"""Pixel coordinates for a CPPN, with the genome's framing and symmetry applied."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

SYMMETRIES = ("none", "mirror_x", "mirror_xy", "radial")


def coordinate_inputs(coords: dict[str, Any], size: int) -> dict[str, np.ndarray]:
    """The network inputs x, y, r (distance from centre) and b (bias) for every pixel.

    Pixel centres span [-1, 1] whatever the size, so a genome renders the same
    picture at any resolution. Symmetry folds the rotated plane before zoom and
    offset, so the picture stays symmetric about the image centre.
    """
    x, y = _grid(size)
    angle = np.float32(coords["rotation"])
    cos, sin = np.cos(angle), np.sin(angle)
    x, y = cos * x - sin * y, sin * x + cos * y

    symmetry = coords["symmetry"]
    if symmetry in ("mirror_x", "mirror_xy"):
        x = np.abs(x)
    if symmetry == "mirror_xy":
        y = np.abs(y)
    if symmetry == "radial":
        sector = np.float32(2 * np.pi / coords["folds"])
        radius = np.sqrt(x * x + y * y)
        theta = np.abs(np.mod(np.arctan2(y, x), sector) - sector / 2)
        x, y = radius * np.cos(theta), radius * np.sin(theta)

    zoom = np.float32(coords["zoom"])
    x = x * zoom + np.float32(coords["offset"][0])
    y = y * zoom + np.float32(coords["offset"][1])
    r = np.sqrt((x * x + y * y) * np.float32(0.5))
    return {"x": x, "y": y, "r": r, "b": np.ones_like(x)}


@lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = ((np.arange(size, dtype=np.float32) + 0.5) / size) * 2 - 1
    x, y = np.meshgrid(axis, axis)
    x.flags.writeable = y.flags.writeable = False
    return x, y
