"""What a diffusion genome holds, and the checks that turn a bad one into a clear error.

    {"prompt": {"subject": "a lighthouse", "scene": "at dawn", "medium": "watercolour",
                "style": "art nouveau", "modifiers": ["muted palette", "film grain"]},
     "seed": 1234567,          # torch Generator seed of the initial noise
     "steps": 25,              # denoising steps
     "guidance": 7.5,          # classifier-free guidance scale
     "weights": "9f2c..."}     # sha256 of the weights directory (tastemaker.weights)

Parts may be any short text (a person may write their own genome); the operators draw
them from the grammar.
"""

from __future__ import annotations

import math
from typing import Any

from tastemaker.errors import GenomeError
from tastemaker.generate.diffusion.grammar import MAX_MODIFIERS, MAX_PART_CHARS, SLOTS

MAX_SEED = 2**32 - 1
MAX_STEPS = 200
MAX_GUIDANCE = 30.0
KEYS = {"prompt", "seed", "steps", "guidance", "weights"}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise GenomeError(message)


def _part(value: Any, what: str) -> None:
    _require(isinstance(value, str), f"{what} must be a string")
    _require(len(value) <= MAX_PART_CHARS, f"{what} is longer than {MAX_PART_CHARS} characters")
    _require(value.isprintable(), f"{what} must be printable text on one line")


def _integer(value: Any, what: str, low: int, high: int) -> None:
    _require(
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
        f"{what} must be an integer in [{low}, {high}]",
    )


def validate(data: dict[str, Any]) -> None:
    missing, extra = KEYS - data.keys(), data.keys() - KEYS
    _require(not missing, f"diffusion genome is missing {', '.join(sorted(missing))}")
    _require(not extra, f"diffusion genome has unknown keys {', '.join(sorted(extra))}")
    prompt = data["prompt"]
    _require(isinstance(prompt, dict), "prompt must be an object")
    wanted = {*SLOTS, "modifiers"}
    _require(
        prompt.keys() == wanted, f"prompt must have exactly the keys {', '.join(sorted(wanted))}"
    )
    for slot in SLOTS:
        _part(prompt[slot], f"prompt.{slot}")
    _require(bool(prompt["subject"].strip()), "prompt.subject must not be empty")
    modifiers = prompt["modifiers"]
    _require(
        isinstance(modifiers, list) and len(modifiers) <= MAX_MODIFIERS,
        f"prompt.modifiers must be a list of at most {MAX_MODIFIERS}",
    )
    for m in modifiers:
        _part(m, "prompt.modifiers[]")
    _require(len(set(modifiers)) == len(modifiers), "prompt.modifiers repeat")
    _integer(data["seed"], "seed", 0, MAX_SEED)
    _integer(data["steps"], "steps", 1, MAX_STEPS)
    guidance = data["guidance"]
    _require(
        isinstance(guidance, int | float)
        and not isinstance(guidance, bool)
        and math.isfinite(guidance)
        and 0.0 <= guidance <= MAX_GUIDANCE,
        f"guidance must be a number in [0, {MAX_GUIDANCE}]",
    )
    weights = data["weights"]
    _require(
        isinstance(weights, str)
        and len(weights) == 64
        and all(c in "0123456789abcdef" for c in weights),
        "weights must be the 64-hex-digit sha256 of a weights directory",
    )
