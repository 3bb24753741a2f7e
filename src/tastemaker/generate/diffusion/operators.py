"""Random genomes, mutation and crossover for the diffusion engine.

Every operator is a pure function of its inputs and the numpy Generator it is given.
``Ranges`` are the deployment's (SD 1.5 wants 20-50 steps at guidance 7; SD-Turbo and
Flux schnell 1-4 steps at guidance 0): new values are drawn inside them, and a nudged
value is kept inside them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from tastemaker.generate.diffusion.genome import MAX_SEED
from tastemaker.generate.diffusion.grammar import MAX_MODIFIERS, MODIFIERS, SLOTS


@dataclass(frozen=True)
class Ranges:
    steps: tuple[int, int]
    guidance: tuple[float, float]


def _pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, MAX_SEED, endpoint=True))


def _guidance(value: float, ranges: Ranges) -> float:
    lo, hi = ranges.guidance
    return round(min(max(value, lo), hi), 2)


def random_data(rng: np.random.Generator, ranges: Ranges, weights: str) -> dict[str, Any]:
    prompt: dict[str, Any] = {slot: _pick(options, rng) for slot, options in SLOTS.items()}
    n = int(rng.integers(0, 4))
    prompt["modifiers"] = [MODIFIERS[int(k)] for k in rng.choice(len(MODIFIERS), n, replace=False)]
    return {
        "prompt": prompt,
        "seed": _seed(rng),
        "steps": int(rng.integers(ranges.steps[0], ranges.steps[1], endpoint=True)),
        "guidance": _guidance(float(rng.uniform(*ranges.guidance)), ranges),
        "weights": weights,
    }


def _mutate_modifiers(modifiers: list[str], rng: np.random.Generator) -> None:
    unused = [m for m in MODIFIERS if m not in modifiers]
    roll = rng.random()
    if modifiers and (roll < 0.35 or len(modifiers) >= MAX_MODIFIERS):
        del modifiers[int(rng.integers(len(modifiers)))]
    elif unused and (roll < 0.7 or not modifiers):
        modifiers.append(_pick(tuple(unused), rng))
    elif unused:
        modifiers[int(rng.integers(len(modifiers)))] = _pick(tuple(unused), rng)


def mutate_data(
    data: dict[str, Any], rng: np.random.Generator, ranges: Ranges, weights: str
) -> dict[str, Any]:
    """One to three edits: a prompt part, the modifiers, the seed, steps or guidance.

    The result always differs from the parent (a fresh seed is the fallback edit)."""
    child = copy.deepcopy(data)
    child["weights"] = weights
    for _ in range(int(rng.integers(1, 4))):
        roll = rng.random()
        if roll < 0.45:
            slot = _pick(tuple(SLOTS), rng)
            child["prompt"][slot] = _pick(SLOTS[slot], rng)
        elif roll < 0.7:
            _mutate_modifiers(child["prompt"]["modifiers"], rng)
        elif roll < 0.85:
            child["seed"] = _seed(rng)
        elif roll < 0.93:
            lo, hi = ranges.steps
            child["steps"] = int(min(max(child["steps"] + int(rng.integers(-3, 4)), lo), hi))
        else:
            child["guidance"] = _guidance(child["guidance"] + float(rng.normal(0, 0.75)), ranges)
    if child == data:
        child["seed"] = _seed(rng)
    return child


def crossover_data(
    a: dict[str, Any], b: dict[str, Any], rng: np.random.Generator, weights: str
) -> dict[str, Any]:
    """Each prompt part from either parent; modifiers drawn from both parents' sets;
    the seed, steps and guidance together from one (they shape the image jointly)."""
    prompt: dict[str, Any] = {
        slot: (a if rng.random() < 0.5 else b)["prompt"][slot] for slot in SLOTS
    }
    pool = list(dict.fromkeys(a["prompt"]["modifiers"] + b["prompt"]["modifiers"]))
    keep = [m for m in pool if rng.random() < 0.5][:MAX_MODIFIERS]
    prompt["modifiers"] = keep
    numbers = a if rng.random() < 0.5 else b
    return {
        "prompt": prompt,
        "seed": numbers["seed"],
        "steps": numbers["steps"],
        "guidance": numbers["guidance"],
        "weights": weights,
    }
