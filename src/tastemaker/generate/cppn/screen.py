"""A cheap quality screen that rejects degenerate images before anyone sees them."""

from __future__ import annotations

import numpy as np

MIN_LUMA_STD = 0.06  # below this the picture is a near-flat wash
MAX_DOMINANT_SHARE = 0.9  # one tone covering nearly everything reads as flat too
MAX_SMOOTH_FIT = 0.96  # a quadratic surface explaining this much is a plain gradient
MAX_NEIGHBOUR_DIFF = 0.2  # mean step between neighbouring (sampled) pixels: noise above


def _quadratic_basis(n: int) -> np.ndarray:
    axis = np.linspace(-1, 1, n)
    x, y = (v.ravel() for v in np.meshgrid(axis, axis))
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)


_FIT_SIZE = 32
_BASIS = _quadratic_basis(_FIT_SIZE)
_SOLVE = np.linalg.pinv(_BASIS)  # least-squares coefficients of the basis


def smooth_fit(luma: np.ndarray) -> float:
    """R² of the best quadratic surface through a 32x32 sample of the image."""
    rows = np.linspace(0, luma.shape[0] - 1, _FIT_SIZE).astype(int)
    cols = np.linspace(0, luma.shape[1] - 1, _FIT_SIZE).astype(int)
    sample = luma[np.ix_(rows, cols)].ravel().astype(np.float64)
    residual = sample - _BASIS @ (_SOLVE @ sample)
    total = ((sample - sample.mean()) ** 2).sum()
    return 1.0 if total == 0 else float(1 - (residual**2).sum() / total)


# Each channel's share of luma for every 8-bit value: float32(v) / 255 * weight, the
# same float32 operations as on the image itself, looked up instead of computed.
_LUMA_WEIGHTS = (np.float32(0.2126), np.float32(0.7152), np.float32(0.0722))
_LUMA_TABLES = tuple(
    (np.arange(256, dtype=np.float32) / np.float32(255)) * w for w in _LUMA_WEIGHTS
)


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma in 0-1 of a uint8 RGB image.

    Elementwise, not a matrix product: BLAS kernels differ between CPUs in their
    order of additions, and the screen must keep the same works on every machine.
    The per-channel terms come from tables (the same floats as computing them) and
    are added in the order r, g, b.
    """
    red, green, blue = _LUMA_TABLES
    luma = red[image[..., 0]]
    luma += green[image[..., 1]]
    luma += blue[image[..., 2]]
    return luma


def _histogram16(luma: np.ndarray) -> np.ndarray:
    """``np.histogram(luma, bins=16, range=(0, 1))[0]``, at a third of the cost.

    The bin edges k/16 are exact binary fractions and scaling by 16 is exact, so the
    floor picks the same bin as np.histogram's edge checks; values past 1 (float
    rounding of pure white) are left out, as np.histogram leaves them out.
    """
    inside = luma[(luma >= 0) & (luma <= 1)]
    bins = (inside * np.float32(16)).astype(np.intp)
    np.minimum(bins, 15, out=bins)  # exactly 1.0 belongs to the last bin
    return np.bincount(bins.ravel(), minlength=16)


def quality_flags(image: np.ndarray) -> dict[str, float]:
    # A sample of about 128x128 pixels is plenty for these statistics.
    step = max(1, min(image.shape[:2]) // 128)
    luma = luminance(image[::step, ::step])
    hist = _histogram16(luma)
    step = (np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean()) / 2
    return {
        "luma_std": float(luma.std()),
        "dominant_share": float(hist.max() / luma.size),
        "neighbour_diff": float(step),
        "smooth_fit": smooth_fit(luma),
    }


def passes_screen(image: np.ndarray) -> bool:
    flags = quality_flags(image)
    return (
        flags["luma_std"] >= MIN_LUMA_STD
        and flags["dominant_share"] <= MAX_DOMINANT_SHARE
        and flags["neighbour_diff"] <= MAX_NEIGHBOUR_DIFF
        and flags["smooth_fit"] <= MAX_SMOOTH_FIT
    )
