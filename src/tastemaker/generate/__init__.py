"""Generative engines: the Engine protocol, genomes and the engine registry."""

from tastemaker.generate.engine import MAX_SIZE, MIN_SIZE, Engine
from tastemaker.generate.genome import Genome
from tastemaker.generate.registry import available_engines, get_engine

__all__ = ["MAX_SIZE", "MIN_SIZE", "Engine", "Genome", "available_engines", "get_engine"]
