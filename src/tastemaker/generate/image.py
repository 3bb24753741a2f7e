"""``ImageEngine``: the Engine protocol for engines that render RGB pixel arrays.

A subclass implements ``render`` (genome, size) -> (size, size, 3) uint8 and
``screen`` (image) -> bool; this base turns them into PNG media (the store's
deterministic encoder, so the same pixels give the same bytes) and screens a
thumbnail before paying for a large render.
"""

from __future__ import annotations

import numpy as np

from tastemaker.core.media import IMAGE_PNG, Media
from tastemaker.generate.genome import Genome
from tastemaker.store.media import encode_png

PRESCREEN_SIZE = 64  # a thumbnail screen rejects most degenerate genomes for 1/16 the cost


class ImageEngine:
    media_types: tuple[str, ...] = (IMAGE_PNG,)
    reproducible = True

    def render(self, genome: Genome, size: int) -> np.ndarray:
        """An RGB image as a ``(size, size, 3)`` uint8 array."""
        raise NotImplementedError

    def screen(self, image: np.ndarray) -> bool:
        """A cheap quality screen: False for degenerate images (flat, pure noise)."""
        raise NotImplementedError

    def encode(self, image: np.ndarray) -> bytes:
        """The work's PNG bytes (an engine version may pick its own zlib strategy)."""
        return encode_png(image)

    def make(self, genome: Genome, size: int) -> Media:
        return Media(self.encode(self.render(genome, size)), IMAGE_PNG)

    def make_screened(self, genome: Genome, size: int) -> Media | None:
        if size > 2 * PRESCREEN_SIZE and not self.screen(self.render(genome, PRESCREEN_SIZE)):
            return None
        image = self.render(genome, size)
        return Media(self.encode(image), IMAGE_PNG) if self.screen(image) else None

    def unavailable(self) -> str | None:
        return None
