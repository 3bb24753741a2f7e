"""Colour for CPPN images: harmonious palettes built in OKLCH, turned into a lookup table.

Raw RGB outputs of a random network look muddy; mapping a scalar "tone" through a
palette whose stops follow a colour-harmony rule gives pleasant colour, and a
lightness ramp across the stops keeps value contrast (shapes read in greyscale).
"""

from __future__ import annotations

import numpy as np

LUT_SIZE = 512

# Hue offsets (in turns) of classic harmony schemes; stops cycle through them.
SCHEMES: dict[str, tuple[float, ...]] = {
    "monochrome": (0.0,),
    "analogous": (-0.08, 0.0, 0.08),
    "complementary": (0.0, 0.5),
    "split": (0.0, 0.42, 0.58),
    "triadic": (0.0, 1 / 3, 2 / 3),
}

# OKLab <-> linear sRGB (Björn Ottosson, 2020).
_LMS_TO_RGB = np.array(
    [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960863, -0.7034186147, 1.7076147010],
    ]
)
_LAB_TO_LMS = np.array(
    [
        [1.0, 0.3963377774, 0.2158037573],
        [1.0, -0.1055613458, -0.0638541728],
        [1.0, -0.0894841775, -1.2914855480],
    ]
)


def oklch_to_srgb(lch: np.ndarray) -> np.ndarray:
    """(N, 3) OKLCH (L 0-1, C ~0-0.37, h in turns) to (N, 3) sRGB in 0-1, clipped."""
    lch = np.atleast_2d(np.asarray(lch, dtype=np.float64))
    hue = lch[:, 2] * 2 * np.pi
    lab = np.stack([lch[:, 0], lch[:, 1] * np.cos(hue), lch[:, 1] * np.sin(hue)], axis=1)
    lms = (lab @ _LAB_TO_LMS.T) ** 3
    linear = np.clip(lms @ _LMS_TO_RGB.T, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def srgb_to_hex(rgb: np.ndarray) -> list[str]:
    values = np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(int)
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in values]


def hex_to_srgb(colors: list[str]) -> np.ndarray:
    return np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in colors])


def random_palette(rng: np.random.Generator) -> list[str]:
    """3 to 6 stops following a harmony scheme, with a dark-to-light (or reverse) ramp."""
    scheme = SCHEMES[rng.choice(list(SCHEMES))]
    n_stops = int(rng.integers(3, 7))
    base_hue = rng.random()
    dark, light = rng.uniform(0.12, 0.35), rng.uniform(0.78, 0.97)
    lightness = np.linspace(dark, light, n_stops)
    if rng.random() < 0.5:
        lightness = lightness[::-1]
    if rng.random() < 0.3:  # a light-dark-light "valley" for glowing edges
        lightness = np.concatenate([lightness[::2], lightness[1::2][::-1]])
    chroma = rng.uniform(0.06, 0.2) * rng.uniform(0.6, 1.2, n_stops)
    hue = base_hue + np.array([scheme[i % len(scheme)] for i in range(n_stops)])
    hue += rng.normal(0, 0.015, n_stops)
    return srgb_to_hex(oklch_to_srgb(np.stack([lightness, chroma, hue % 1.0], axis=1)))


def palette_lut(colors: list[str]) -> np.ndarray:
    """A (LUT_SIZE, 3) float32 table interpolating the stops evenly, values 0-255."""
    stops = hex_to_srgb(colors) * 255
    positions = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, LUT_SIZE)
    lut = np.stack([np.interp(t, positions, stops[:, c]) for c in range(3)], axis=1)
    return lut.astype(np.float32)


def palette_ramp(colors: list[str]) -> np.ndarray:
    """``palette_lut`` in float64 from IEEE basic operations only (no ``np.interp``,
    whose compiled loop may be fused into FMAs on some platforms): engine 2.0's."""
    stops = hex_to_srgb(colors) * 255
    position = np.arange(LUT_SIZE, dtype=np.float64) / (LUT_SIZE - 1) * (len(stops) - 1)
    left = np.minimum(np.floor(position).astype(np.intp), len(stops) - 2)
    frac = (position - left)[:, None]
    return stops[left] + frac * (stops[left + 1] - stops[left])
