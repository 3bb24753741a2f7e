"""How simulated members see a work: a fixed random convolutional network.

It deliberately differs from the taste model's view (``taste.embed_image``): another
resolution (32 px instead of 64), another colour space (opponent channels), and random
filters instead of hand-made aesthetic statistics. So a benchmark measures whether the
taste model *learns* the community's taste, not whether it reads back the simulator's
formula.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

PERCEPTION_SIZE = 32
_OPPONENT = np.array(
    [[1 / 3, 1 / 3, 1 / 3], [0.5, -0.5, 0.0], [0.25, 0.25, -0.5]]
)  # luminance, red-green, yellow-blue


class RandomConvPerception:
    """Two random conv layers (5x5 then 3x3) with ReLU and pooling -> ``dim`` features."""

    def __init__(self, seed: int = 0, channels: tuple[int, int] = (12, 24)) -> None:
        rng = np.random.default_rng(seed)
        c1, c2 = channels
        self.k1 = rng.standard_normal((5 * 5 * 3, c1)) / np.sqrt(75)
        self.b1 = 0.1 * rng.standard_normal(c1)
        self.k2 = rng.standard_normal((3 * 3 * c1, c2)) / np.sqrt(9 * c1)
        self.b2 = 0.1 * rng.standard_normal(c2)
        # Mean and max pooling of the second layer, plus the first layer's mean.
        self.dim = c1 + 2 * c2

    @staticmethod
    def _prepare(image: np.ndarray) -> np.ndarray:
        pil = Image.fromarray(image).resize(
            (PERCEPTION_SIZE, PERCEPTION_SIZE), Image.Resampling.BILINEAR
        )
        rgb = np.asarray(pil, dtype=np.float64) / 255.0
        return (rgb @ _OPPONENT.T) * np.array([2.0, 3.0, 3.0]) - np.array([1.0, 0.0, 0.0])

    @staticmethod
    def _conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, size: int) -> np.ndarray:
        windows = sliding_window_view(x, (size, size), axis=(0, 1))  # H', W', C, k, k
        h, w = windows.shape[:2]
        flat = windows.transpose(0, 1, 3, 4, 2).reshape(h, w, -1)
        return np.maximum(flat @ kernel + bias, 0.0)

    def features(self, image: np.ndarray) -> np.ndarray:
        x = self._prepare(image)
        h1 = self._conv(x, self.k1, self.b1, 5)  # 28 x 28 x c1
        pooled = h1[: h1.shape[0] // 2 * 2, : h1.shape[1] // 2 * 2]
        pooled = pooled.reshape(pooled.shape[0] // 2, 2, pooled.shape[1] // 2, 2, -1).mean((1, 3))
        h2 = self._conv(pooled, self.k2, self.b2, 3)  # 12 x 12 x c2
        return np.concatenate([h1.mean((0, 1)), h2.mean((0, 1)), h2.max((0, 1))])

    def batch(self, images: list[np.ndarray]) -> np.ndarray:
        return np.vstack([self.features(im) for im in images])
