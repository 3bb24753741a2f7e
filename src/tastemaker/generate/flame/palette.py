"""Colour for flames: vivid palettes built in OKLCH, turned into a lookup table.

Flames glow on black, so their palettes are brighter and more saturated than the
CPPN engine's: stops walk around the hue circle (or follow a harmony scheme) at
high lightness and chroma, with at most one deeper accent.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tastemaker.generate.cppn.palette import (
    _LAB_TO_LMS,
    _LMS_TO_RGB,
    SCHEMES,
    oklch_to_srgb,
    palette_ramp,
    srgb_to_hex,
)


def _in_gamut(lch: np.ndarray) -> np.ndarray:
    """Whether each OKLCH colour is inside sRGB (before any clipping)."""
    hue = lch[:, 2] * 2 * np.pi
    lab = np.stack([lch[:, 0], lch[:, 1] * np.cos(hue), lch[:, 1] * np.sin(hue)], axis=1)
    linear = ((lab @ _LAB_TO_LMS.T) ** 3) @ _LMS_TO_RGB.T
    return np.all((linear >= -1e-4) & (linear <= 1 + 1e-4), axis=1)


def gamut_map(lch: np.ndarray) -> np.ndarray:
    """Lower each colour's chroma until it fits sRGB, keeping its hue and lightness:
    clipping channels instead would pull most light, vivid hues toward cyan and
    yellow."""
    lch = lch.copy()
    for _ in range(40):
        outside = ~_in_gamut(lch)
        if not outside.any():
            break
        lch[outside, 1] *= 0.92
    return lch


def random_palette(rng: np.random.Generator) -> list[str]:
    """4 to 7 stops: a hue sweep or a harmony scheme, light and saturated."""
    n = int(rng.integers(4, 8))
    base = rng.random()
    if rng.random() < 0.5:  # a sweep across part of the hue circle
        hue = base + np.linspace(0.0, rng.uniform(0.15, 0.6) * rng.choice([-1, 1]), n)
    else:
        scheme = SCHEMES[str(rng.choice(["analogous", "complementary", "split", "triadic"]))]
        hue = base + np.array([scheme[i % len(scheme)] for i in range(n)])
    hue = hue + rng.normal(0, 0.02, n)
    lightness = rng.uniform(0.55, 0.9, n)
    lightness[int(rng.integers(n))] = rng.uniform(0.35, 0.55)  # one deeper accent
    chroma = rng.uniform(0.12, 0.3, n)
    lch = gamut_map(np.stack([lightness, chroma, hue % 1.0], axis=1))
    return srgb_to_hex(oklch_to_srgb(lch))


@lru_cache(maxsize=128)
def palette_table(colors: tuple[str, ...]) -> np.ndarray:
    """(512, 3) float32 in 0-1, from IEEE basic operations only (cppn's palette_ramp)."""
    table = (palette_ramp(list(colors)) / 255.0).astype(np.float32)
    table.flags.writeable = False
    return table
