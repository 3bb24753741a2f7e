"""Computational-aesthetics features of an image: CPU only, no downloaded weights.

Every image is first resized to ``ANALYSIS_SIZE`` so features do not depend on the
render size. The vector (``FEATURE_NAMES``) covers colour statistics and palette,
contrast, edges, symmetry, the spatial-frequency profile, compressibility and a coarse
colour layout.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tastemaker.errors import MediaError
from tastemaker.taste.cache import FeatureCache

NAME = "aesthetics-v2"
ANALYSIS_SIZE = 64
_HUE_BINS = 8
_FREQ_BANDS = 6
_ORIENT_BINS = 4
_LAYOUT = 3  # colour layout: mean opponent colour in a 3 x 3 grid

FEATURE_NAMES: tuple[str, ...] = (
    *(f"rgb_mean_{c}" for c in "rgb"),
    *(f"rgb_std_{c}" for c in "rgb"),
    "saturation_mean",
    "saturation_std",
    "value_mean",
    "colourfulness",
    "hue_cos",
    "hue_sin",
    *(f"hue_hist_{k}" for k in range(_HUE_BINS)),
    "palette_size",
    "luminance_std",
    "luminance_range",
    "luminance_entropy",
    "edge_mean",
    "edge_density",
    *(f"edge_orient_{k}" for k in range(_ORIENT_BINS)),
    "symmetry_lr",
    "symmetry_tb",
    "symmetry_rot180",
    *(f"freq_band_{k}" for k in range(_FREQ_BANDS)),
    "freq_slope",
    "compress_ratio",
    *(f"layout_{c}_{k}" for c in ("lum", "rg", "yb") for k in range(_LAYOUT * _LAYOUT)),
)
DIM = len(FEATURE_NAMES)


def load_image(path: Path) -> np.ndarray:
    """An RGB uint8 array from an image file; MediaError if it cannot be read."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise MediaError(f"cannot read image {path}: {exc}") from exc


def _resize(image: np.ndarray) -> np.ndarray:
    if image.shape[:2] == (ANALYSIS_SIZE, ANALYSIS_SIZE):
        return image.astype(np.float64) / 255.0
    pil = Image.fromarray(image).resize((ANALYSIS_SIZE, ANALYSIS_SIZE), Image.Resampling.BOX)
    return np.asarray(pil, dtype=np.float64) / 255.0


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    delta = mx - mn
    sat = np.where(mx > 0, delta / np.maximum(mx, 1e-12), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.maximum(delta, 1e-12)
    hue = np.where(
        mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    hue = np.where(delta > 0, hue / 6.0, 0.0)  # in [0, 1)
    return hue, sat, mx


def _colour(rgb: np.ndarray) -> list[float]:
    flat = rgb.reshape(-1, 3)
    hue, sat, val = _hsv(rgb)
    rg = flat[:, 0] - flat[:, 1]
    yb = 0.5 * (flat[:, 0] + flat[:, 1]) - flat[:, 2]
    # Hasler & Suesstrunk colourfulness.
    colourful = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    angle = 2 * np.pi * hue.ravel()
    weight = sat.ravel()
    total = weight.sum() + 1e-12
    hist = (
        np.bincount(
            np.minimum((hue.ravel() * _HUE_BINS).astype(int), _HUE_BINS - 1),
            weights=weight,
            minlength=_HUE_BINS,
        )
        / total
    )
    quantised = (flat * 7.999).astype(int)  # 8 levels per channel
    codes = quantised[:, 0] * 64 + quantised[:, 1] * 8 + quantised[:, 2]
    counts = np.bincount(codes, minlength=512)
    # Palette size: how many colours it takes to cover 90% of the pixels.
    covered = np.cumsum(np.sort(counts)[::-1]) / counts.sum()
    palette = float(np.searchsorted(covered, 0.9) + 1)
    return [
        *flat.mean(axis=0),
        *flat.std(axis=0),
        float(sat.mean()),
        float(sat.std()),
        float(val.mean()),
        float(colourful),
        float((np.cos(angle) * weight).sum() / total),
        float((np.sin(angle) * weight).sum() / total),
        *hist,
        np.log(palette),
    ]


def _luminance(lum: np.ndarray) -> list[float]:
    hist = np.bincount((lum.ravel() * 31.999).astype(int), minlength=32) / lum.size
    nz = hist[hist > 0]
    p5, p95 = np.percentile(lum, [5, 95])
    return [float(lum.std()), float(p95 - p5), float(-(nz * np.log2(nz)).sum() / 5.0)]


def _edges(lum: np.ndarray) -> list[float]:
    gx = np.zeros_like(lum)
    gy = np.zeros_like(lum)
    gx[:, 1:-1] = lum[:, 2:] - lum[:, :-2]
    gy[1:-1, :] = lum[2:, :] - lum[:-2, :]
    mag = np.hypot(gx, gy)
    orient = (np.arctan2(gy, gx) % np.pi) / np.pi
    bins = np.minimum((orient * _ORIENT_BINS).astype(int), _ORIENT_BINS - 1)
    hist = np.bincount(bins.ravel(), weights=mag.ravel(), minlength=_ORIENT_BINS)
    hist = hist / (hist.sum() + 1e-12)
    return [float(mag.mean()), float((mag > 0.1).mean()), *hist]


def _symmetry(rgb: np.ndarray) -> list[float]:
    def similarity(other: np.ndarray) -> float:
        return float(1.0 - np.abs(rgb - other).mean())

    return [similarity(rgb[:, ::-1]), similarity(rgb[::-1, :]), similarity(rgb[::-1, ::-1])]


def _frequency(lum: np.ndarray) -> list[float]:
    spec = np.abs(np.fft.fftshift(np.fft.fft2(lum - lum.mean()))) ** 2
    n = lum.shape[0]
    yy, xx = np.indices(spec.shape)
    radius = np.hypot(yy - n // 2, xx - n // 2)
    edges = np.geomspace(1, n // 2, _FREQ_BANDS + 1)
    band = np.digitize(radius, edges) - 1
    ok = (band >= 0) & (band < _FREQ_BANDS)
    power = np.bincount(band[ok], weights=spec[ok], minlength=_FREQ_BANDS)
    share = power / (power.sum() + 1e-12)
    # Slope of log power against log radius (natural images sit near -2).
    r_ok = (radius >= 1) & (radius < n // 2)
    slope = np.polyfit(np.log(radius[r_ok]), np.log(spec[r_ok] + 1e-12), 1)[0]
    return [*share, float(slope) / 4.0]


def _compressibility(rgb: np.ndarray) -> float:
    raw = (rgb * 255).astype(np.uint8).tobytes()
    return len(zlib.compress(raw, 6)) / len(raw)


def _layout(rgb: np.ndarray) -> list[float]:
    """Where the light and the colours sit: opponent channels averaged over a coarse grid."""
    opp = rgb @ np.array([[1 / 3, 0.5, 0.25], [1 / 3, -0.5, 0.25], [1 / 3, 0.0, -0.5]])
    n = rgb.shape[0] // _LAYOUT * _LAYOUT
    cells = opp[:n, :n].reshape(_LAYOUT, n // _LAYOUT, _LAYOUT, n // _LAYOUT, 3).mean((1, 3))
    return cells.transpose(2, 0, 1).ravel().tolist()


def image_features(image: np.ndarray) -> np.ndarray:
    """The ``DIM`` aesthetic features of an RGB uint8 image of any size."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise MediaError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
    rgb = _resize(image)
    lum = rgb @ np.array([0.2126, 0.7152, 0.0722])
    vector = [
        *_colour(rgb),
        *_luminance(lum),
        *_edges(lum),
        *_symmetry(rgb),
        *_frequency(lum),
        _compressibility(rgb),
        *_layout(rgb),
    ]
    return np.asarray(vector, dtype=np.float64)


class ImageEmbedder:
    """Aesthetic features of works, cached by content id (the work's CID or genome id)."""

    name = NAME

    def __init__(self, cache: FeatureCache | None = None) -> None:
        self.cache = cache

    def embed_one(self, content_id: str, image: np.ndarray) -> np.ndarray:
        if self.cache is not None:
            hit = self.cache.get(NAME, content_id)
            if hit is not None and hit.shape == (DIM,):
                return hit.astype(np.float64)
        vector = image_features(image)
        if self.cache is not None:
            self.cache.put(NAME, content_id, vector)
        return vector

    def embed(self, content_ids: Sequence[str], images: Sequence[np.ndarray]) -> np.ndarray:
        return np.vstack([self.embed_one(c, im) for c, im in zip(content_ids, images, strict=True)])
