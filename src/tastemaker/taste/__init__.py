"""Taste: embedders, the TasteModel, curation and evolution."""

from tastemaker.taste.data import Items, Votes
from tastemaker.taste.model import TasteModel

__all__ = ["Items", "TasteModel", "Votes"]
