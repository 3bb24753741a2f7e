"""The CPPN engine (default)."""

from tastemaker.generate.cppn.engine import CPPNEngine

__all__ = ["CPPNEngine"]
