"""A cheap quality screen that rejects degenerate images before anyone sees them."""

from __future__ import annotations

import numpy as np

MIN_LUMA_STD = 0.045  # below this the picture is a near-flat wash
MAX_DOMINANT_SHARE = 0.9  # one tone covering nearly everything reads as flat too
MAX_NEIGHBOUR_DIFF = 0.16  # mean step between neighbouring pixels: pure noise above this


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma in 0-1."""
    rgb = image.astype(np.float32) / 255
    return rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def quality_flags(image: np.ndarray) -> dict[str, float]:
    luma = luminance(image)
    hist, _ = np.histogram(luma, bins=16, range=(0.0, 1.0))
    step = (np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean()) / 2
    return {
        "luma_std": float(luma.std()),
        "dominant_share": float(hist.max() / luma.size),
        "neighbour_diff": float(step),
    }


def passes_screen(image: np.ndarray) -> bool:
    flags = quality_flags(image)
    return (
        flags["luma_std"] >= MIN_LUMA_STD
        and flags["dominant_share"] <= MAX_DOMINANT_SHARE
        and flags["neighbour_diff"] <= MAX_NEIGHBOUR_DIFF
    )
