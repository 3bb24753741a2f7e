"""Variation for flame genomes: random flames, mutation and crossover.

Every draw comes from the caller's ``numpy.random.Generator`` and every stored
number is rounded to 4 decimals, so the same generator state proposes the same
genome (and genome id) on every machine.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from tastemaker.generate.flame.genome import MAX_VARIATIONS, MAX_XFORMS
from tastemaker.generate.flame.palette import random_palette
from tastemaker.generate.flame.variations import VARIATIONS

# How often each variation is drawn: the curved, folding ones make the classic look;
# linear alone makes plain Sierpinski-like sets.
_VARIATION_WEIGHTS = {
    "linear": 0.6, "sinusoidal": 1.0, "spherical": 1.4, "swirl": 1.2, "horseshoe": 0.8,
    "polar": 0.8, "handkerchief": 0.6, "heart": 0.5, "disc": 0.8, "spiral": 0.8,
    "hyperbolic": 0.7, "diamond": 0.5, "julia": 1.4, "bubble": 0.8, "fisheye": 0.6,
    "cylinder": 0.4,
}  # fmt: skip
_P = np.array([_VARIATION_WEIGHTS[v] for v in VARIATIONS])
_P = _P / _P.sum()
_FINAL_VARIATIONS = ("spherical", "julia", "swirl", "bubble", "disc", "polar", "fisheye")
_SYMMETRIES = (1, 1, 1, 1, 2, 2, 3, 4, 5, 6)


def _r(value: float) -> float:
    return round(float(value), 4)


def _variation(rng: np.random.Generator) -> str:
    return str(VARIATIONS[int(rng.choice(len(VARIATIONS), p=_P))])


def random_variations(rng: np.random.Generator) -> dict[str, float]:
    if rng.random() < 0.5:
        return {_variation(rng): 1.0}
    names = {_variation(rng) for _ in range(int(rng.integers(2, MAX_VARIATIONS)))}
    weights = rng.dirichlet(np.ones(len(names))) * rng.uniform(0.8, 1.1)
    return {name: _r(w) for name, w in zip(sorted(names), weights, strict=True)}


def random_affine(rng: np.random.Generator) -> list[float]:
    return [_r(v) for v in rng.uniform(-1.0, 1.0, 6)]


def random_xform(rng: np.random.Generator, color: float) -> dict[str, Any]:
    return {
        "weight": _r(rng.uniform(0.2, 1.0)),
        "color": _r(color),
        "speed": _r(rng.uniform(0.3, 0.7)),
        "affine": random_affine(rng),
        "variations": random_variations(rng),
    }


def random_final(rng: np.random.Generator) -> dict[str, Any]:
    angle, scale = rng.uniform(-np.pi, np.pi), rng.uniform(0.5, 1.2)
    ca, sa = scale * np.cos(angle), scale * np.sin(angle)
    shift = rng.normal(0, 0.2, 2)
    return {
        "affine": [_r(ca), _r(-sa), _r(shift[0]), _r(sa), _r(ca), _r(shift[1])],
        "variations": {str(rng.choice(_FINAL_VARIATIONS)): 1.0},
    }


def random_tone(rng: np.random.Generator) -> dict[str, float]:
    return {
        "gamma": _r(rng.uniform(2.5, 4.5)),
        "vibrancy": _r(rng.uniform(0.6, 1.0)),
        "brightness": _r(rng.uniform(0.9, 1.8)),
    }


def random_data(rng: np.random.Generator) -> dict[str, Any]:
    n = int(rng.choice([2, 3, 3, 4, 4, 5]))
    colors = (np.arange(n) + rng.uniform(-0.2, 0.2, n)) / max(n - 1, 1)
    colors = np.clip(colors, 0, 1)[rng.permutation(n)]
    return {
        "xforms": [random_xform(rng, c) for c in colors],
        "final": random_final(rng) if rng.random() < 0.3 else None,
        "symmetry": int(rng.choice(_SYMMETRIES)),
        "palette": {"colors": random_palette(rng)},
        "view": {"zoom": _r(rng.uniform(0.85, 1.2)), "rotation": _r(rng.uniform(-np.pi, np.pi))},
        "tone": random_tone(rng),
    }


def _clip(value: float, low: float, high: float) -> float:
    return _r(min(max(value, low), high))


def mutate_data(data: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A copy with one to three small changes."""
    child = copy.deepcopy(data)
    for _ in range(int(rng.integers(1, 4))):
        xforms = child["xforms"]
        xf = xforms[int(rng.integers(len(xforms)))]
        kind = rng.random()
        if kind < 0.3:  # nudge a transform's affine part
            jitter = rng.normal(0, 0.12, 6)
            xf["affine"] = [_clip(a + j, -3, 3) for a, j in zip(xf["affine"], jitter, strict=True)]
        elif kind < 0.45:  # new variations for one transform
            xf["variations"] = random_variations(rng)
        elif kind < 0.55:  # reweight one variation
            name = sorted(xf["variations"])[int(rng.integers(len(xf["variations"])))]
            xf["variations"][name] = _clip(xf["variations"][name] * rng.uniform(0.6, 1.5), -3, 3)
        elif kind < 0.63:  # recolour a transform
            xf["color"] = _clip(xf["color"] + rng.normal(0, 0.2), 0, 1)
            xf["weight"] = _clip(xf["weight"] * rng.uniform(0.6, 1.6), 0.01, 10)
        elif kind < 0.7:
            child["palette"] = {"colors": random_palette(rng)}
        elif kind < 0.76:
            tone = child["tone"]
            tone["gamma"] = _clip(tone["gamma"] + rng.normal(0, 0.3), 1.5, 5.5)
            tone["vibrancy"] = _clip(tone["vibrancy"] + rng.normal(0, 0.1), 0, 1)
            tone["brightness"] = _clip(tone["brightness"] * rng.uniform(0.8, 1.25), 0.5, 15)
        elif kind < 0.82 and len(xforms) < MAX_XFORMS:
            xforms.append(random_xform(rng, rng.random()))
        elif kind < 0.86 and len(xforms) > 2:
            xforms.pop(int(rng.integers(len(xforms))))
        elif kind < 0.91:
            child["final"] = None if child["final"] is not None else random_final(rng)
        elif kind < 0.95:
            child["symmetry"] = int(rng.choice(_SYMMETRIES))
        else:
            view = child["view"]
            view["zoom"] = _clip(view["zoom"] * rng.uniform(0.85, 1.2), 0.3, 4)
            view["rotation"] = _r(view["rotation"] + rng.normal(0, 0.3))
    return child


def crossover_data(
    a: dict[str, Any], b: dict[str, Any], rng: np.random.Generator
) -> dict[str, Any]:
    """Transforms taken position by position from either parent (as many as ``a``
    has, or ``b`` where ``a`` runs out); the rest from ``a`` with some genes from ``b``."""
    n = len(a["xforms"]) if rng.random() < 0.7 else len(b["xforms"])
    xforms = []
    for i in range(n):
        pick = rng.random() < 0.5
        source = a if (pick and i < len(a["xforms"])) or i >= len(b["xforms"]) else b
        xforms.append(copy.deepcopy(source["xforms"][i]))
    child = {
        "xforms": xforms,
        "final": copy.deepcopy((a if rng.random() < 0.6 else b)["final"]),
        "symmetry": (a if rng.random() < 0.6 else b)["symmetry"],
        "palette": copy.deepcopy((a if rng.random() < 0.5 else b)["palette"]),
        "view": copy.deepcopy(a["view"]),
        "tone": copy.deepcopy((a if rng.random() < 0.6 else b)["tone"]),
    }
    return child
