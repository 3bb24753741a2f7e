"""What a flame genome holds, and the checks that turn a bad one into a clear error.

    {"xforms": [{"weight": 0.6, "color": 0.2, "speed": 0.5,
                 "affine": [a, b, c, d, e, f], "variations": {"swirl": 0.8, ...}}, ...],
     "final": null or {"affine": [...], "variations": {...}},
     "symmetry": 3,                      # rotational copies (1 = none)
     "palette": {"colors": ["#rrggbb", ...]},
     "view": {"zoom": 1.0, "rotation": 0.3},
     "tone": {"gamma": 3.0, "vibrancy": 0.8, "brightness": 3.5}}

A transform maps (x, y) to (a x + b y + c, d x + e y + f) and then sums its
variations of that point. The view is framed on the attractor at render time; zoom
and rotation adjust that framing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tastemaker.errors import GenomeError
from tastemaker.generate.flame.variations import VARIATIONS

MIN_XFORMS = 1
MAX_XFORMS = 8
MAX_VARIATIONS = 4  # per transform
MAX_SYMMETRY = 12
RANGES = {
    "zoom": (0.1, 10.0),
    "gamma": (1.0, 6.0),
    "vibrancy": (0.0, 1.0),
    "brightness": (0.1, 20.0),
}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise GenomeError(message)


def _number(value: Any, what: str) -> float:
    _require(
        isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value),
        f"{what} must be a finite number",
    )
    return float(value)


def _in_range(value: Any, what: str, low: float, high: float) -> None:
    _require(low <= _number(value, what) <= high, f"{what} must be in [{low}, {high}]")


def _transform(xf: Any, where: str) -> None:
    _require(isinstance(xf, dict), f"{where} must be an object")
    affine = xf.get("affine")
    _require(isinstance(affine, list) and len(affine) == 6, f"{where}.affine must be 6 numbers")
    for v in affine:
        _in_range(v, f"{where}.affine", -100.0, 100.0)
    variations = xf.get("variations")
    _require(
        isinstance(variations, dict) and 1 <= len(variations) <= MAX_VARIATIONS,
        f"{where}.variations must map 1-{MAX_VARIATIONS} variation names to weights",
    )
    for name, weight in variations.items():
        _require(name in VARIATIONS, f"{where}: unknown variation {name!r}")
        _in_range(weight, f"{where}.variations.{name}", -10.0, 10.0)


def validate(data: Any) -> None:
    """Raise ``GenomeError`` with a precise message if ``data`` is not a valid flame."""
    _require(isinstance(data, dict), "flame genome must be an object")
    for key in ("xforms", "final", "symmetry", "palette", "view", "tone"):
        _require(key in data, f"flame genome is missing '{key}'")
    xforms = data["xforms"]
    _require(
        isinstance(xforms, list) and MIN_XFORMS <= len(xforms) <= MAX_XFORMS,
        f"'xforms' must list {MIN_XFORMS}-{MAX_XFORMS} transforms",
    )
    for i, xf in enumerate(xforms):
        where = f"xforms[{i}]"
        _transform(xf, where)
        _in_range(xf.get("weight"), f"{where}.weight", 0.0, 100.0)
        _require(xf["weight"] > 0, f"{where}.weight must be above 0")
        _in_range(xf.get("color"), f"{where}.color", 0.0, 1.0)
        _in_range(xf.get("speed"), f"{where}.speed", 0.0, 1.0)
    if data["final"] is not None:
        _transform(data["final"], "final")
    symmetry = data["symmetry"]
    _require(
        isinstance(symmetry, int)
        and not isinstance(symmetry, bool)
        and 1 <= symmetry <= MAX_SYMMETRY,
        f"'symmetry' must be an integer 1-{MAX_SYMMETRY}",
    )
    palette = data["palette"]
    _require(isinstance(palette, dict), "'palette' must be an object")
    colors = palette.get("colors")
    _require(
        isinstance(colors, list) and 2 <= len(colors) <= 16,
        "'palette.colors' must list 2-16 colours",
    )
    for c in colors:
        ok = isinstance(c, str) and len(c) == 7 and c[0] == "#"
        _require(ok and all(ch in "0123456789abcdefABCDEF" for ch in c[1:]), f"bad colour {c!r}")
    view, tone = data["view"], data["tone"]
    _require(isinstance(view, dict), "'view' must be an object")
    _in_range(view.get("zoom"), "'view.zoom'", *RANGES["zoom"])
    _in_range(view.get("rotation"), "'view.rotation'", -100.0, 100.0)
    _require(isinstance(tone, dict), "'tone' must be an object")
    for key in ("gamma", "vibrancy", "brightness"):
        _in_range(tone.get(key), f"'tone.{key}'", *RANGES[key])
