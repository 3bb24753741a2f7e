"""Imported once by the generation workers' fork server: loads the built-in engines'
compiled kernels so that every worker forked from it starts warm.

numba costs ~0.45 s to import and ~0.4-0.6 s to load an engine's cached kernels per
process; paid once in the fork server instead of in each worker of each batch.
"""

from __future__ import annotations

import numpy as np

from tastemaker.generate.registry import get_engine

for _name in ("cppn", "flame"):
    _engine = get_engine(_name)
    _engine.screen(_engine.render(_engine.random(np.random.default_rng(0)), 8))
