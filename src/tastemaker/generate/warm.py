"""Imported once by the generation workers' fork server: loads the built-in engines'
compiled kernels so that every worker forked from it starts warm.

numba costs ~0.45 s to import and ~0.4 s to load a cached kernel per process; paid
once in the fork server instead of in each worker of each batch.
"""

from __future__ import annotations

import numpy as np

from tastemaker.generate.registry import get_engine

_engine = get_engine("cppn")
_engine.render(_engine.random(np.random.default_rng(0)), 4)
