"""The diffusion engine: text-to-image with local diffusers weights (the 'diffusion' extra)."""

from tastemaker.generate.diffusion.engine import DiffusionEngine

__all__ = ["DiffusionEngine"]
