"""The flame engine: fractal flames (Draves' flam3 algorithm), deterministic on any CPU."""

from tastemaker.generate.flame.engine import FlameEngine

__all__ = ["FlameEngine"]
