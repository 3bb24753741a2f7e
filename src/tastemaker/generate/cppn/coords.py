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
    # In place where it can be: fewer 256 KiB temporaries, the same operations in the
    # same order (so the same floats as the plain expressions in the comments).
    grid_x, grid_y = _grid(size)
    angle = np.float32(coords["rotation"])
    cos, sin = np.cos(angle), np.sin(angle)
    scratch = np.empty_like(grid_x)
    x = np.multiply(grid_x, cos)  # x, y = cos*x - sin*y, sin*x + cos*y
    x -= np.multiply(grid_y, sin, out=scratch)
    y = np.multiply(grid_x, sin)
    y += np.multiply(grid_y, cos, out=scratch)

    symmetry = coords["symmetry"]
    if symmetry in ("mirror_x", "mirror_xy"):
        np.abs(x, out=x)
    if symmetry == "mirror_xy":
        np.abs(y, out=y)
    if symmetry == "radial":
        sector = np.float32(2 * np.pi / coords["folds"])
        radius = np.multiply(x, x)  # sqrt(x*x + y*y)
        radius += np.multiply(y, y, out=scratch)
        np.sqrt(radius, out=radius)
        theta = np.arctan2(y, x)  # |mod(atan2(y, x), sector) - sector/2|
        np.mod(theta, sector, out=theta)
        theta -= sector / 2
        np.abs(theta, out=theta)
        np.cos(theta, out=x)  # x, y = radius*cos(theta), radius*sin(theta)
        x *= radius
        np.sin(theta, out=y)
        y *= radius

    x *= np.float32(coords["zoom"])  # x*zoom + dx, y*zoom + dy
    x += np.float32(coords["offset"][0])
    y *= np.float32(coords["zoom"])
    y += np.float32(coords["offset"][1])
    r = np.multiply(x, x)  # sqrt((x*x + y*y) * 0.5)
    r += np.multiply(y, y, out=scratch)
    r *= np.float32(0.5)
    np.sqrt(r, out=r)
    return {"x": x, "y": y, "r": r, "b": _ones(size)}


@lru_cache(maxsize=4)
def _ones(size: int) -> np.ndarray:
    ones = np.ones((size, size), dtype=np.float32)
    ones.flags.writeable = False  # shared by every render at this size
    return ones


@lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = ((np.arange(size, dtype=np.float32) + 0.5) / size) * 2 - 1
    x, y = np.meshgrid(axis, axis)
    x.flags.writeable = y.flags.writeable = False
    return x, y
