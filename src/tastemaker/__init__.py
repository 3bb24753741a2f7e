"""Tastemaker: an open engine for community-trained taste models."""

__version__ = "0.1.0"
