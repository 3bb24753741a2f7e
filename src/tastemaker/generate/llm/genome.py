"""The llm genome: a prompt template, a theme, a seed and a temperature.

``{"template": "Write a deadpan joke about {theme}, with a twist ending.",
"theme": "lighthouses", "seed": 12, "temperature": 0.9}``. The prompt is the template
with ``{theme}`` filled in. Evolution edits the words: mutation swaps a form, a tone
or a constraint of the template for another from the vocabulary below (or adds or
drops a constraint), changes or blends the theme, nudges the temperature or draws a
new seed; crossover takes one parent's template head with the other's constraint
and one parent's theme.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from tastemaker.errors import GenomeError

FORMS = ("joke", "one-liner", "limerick", "haiku", "fable", "riddle", "very short story",
         "prose poem", "shaggy-dog story", "aphorism")  # fmt: skip
TONES = ("deadpan", "absurd", "wholesome", "dark", "punny", "wistful", "dry", "surreal",
         "tender", "sardonic")  # fmt: skip
CONSTRAINTS = ("with a twist ending", "in under 60 words", "told in the second person",
               "without using the letter e", "as a dialogue", "ending on a question",
               "in the voice of a tired museum guard", "with exactly three sentences")  # fmt: skip
THEMES = ("lighthouses", "tax returns", "octopuses", "the last train home", "grandmothers",
          "robots learning to cook", "the moon", "office printers", "first love",
          "a haunted spreadsheet", "cats", "time travel", "weddings", "the sea",
          "pigeons", "a dentist's waiting room")  # fmt: skip
PLACEHOLDER = "{theme}"
MAX_TEMPLATE, MAX_THEME = 1000, 200
TEMPERATURE_RANGE = (0.0, 2.0)
_HEAD = re.compile(r"^Write an? (\S+) (.+?) about \{theme\}")


def template_for(tone: str, form: str, constraint: str | None) -> str:
    article = "an" if tone[0] in "aeiou" else "a"
    tail = f", {constraint}." if constraint else "."
    return f"Write {article} {tone} {form} about {PLACEHOLDER}{tail}"


def prompt(data: dict[str, Any]) -> str:
    return data["template"].replace(PLACEHOLDER, data["theme"])


def validate(data: dict[str, Any]) -> None:
    if set(data) != {"template", "theme", "seed", "temperature"}:
        raise GenomeError("an llm genome has exactly template, theme, seed and temperature")
    template, theme, seed, temperature = (
        data[k] for k in ("template", "theme", "seed", "temperature")
    )
    if not isinstance(template, str) or PLACEHOLDER not in template or len(template) > MAX_TEMPLATE:
        raise GenomeError(
            f"an llm template is a string of at most {MAX_TEMPLATE} characters with {PLACEHOLDER}"
        )
    if not isinstance(theme, str) or not theme.strip() or len(theme) > MAX_THEME:
        raise GenomeError(f"an llm theme is 1 to {MAX_THEME} characters")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise GenomeError("an llm seed is an integer in [0, 2**31)")
    low, high = TEMPERATURE_RANGE
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not (low <= temperature <= high)
    ):
        raise GenomeError(f"an llm temperature is a number in [{low}, {high}]")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def random_data(rng: np.random.Generator) -> dict[str, Any]:
    constraint = _pick(rng, CONSTRAINTS) if rng.random() < 0.5 else None
    return {
        "template": template_for(_pick(rng, TONES), _pick(rng, FORMS), constraint),
        "theme": _pick(rng, THEMES),
        "seed": int(rng.integers(2**31)),
        "temperature": round(float(rng.uniform(0.6, 1.2)), 2),
    }


def _split(template: str) -> tuple[str, str]:
    """(head up to and including the theme, the rest): the unit crossover swaps."""
    at = template.index(PLACEHOLDER) + len(PLACEHOLDER)
    return template[:at], template[at:]


def _swap_word(template: str, options: tuple[str, ...], rng: np.random.Generator) -> str:
    present = [o for o in options if o in template]
    if not present:
        return template
    old = _pick(rng, tuple(present))
    new = _pick(rng, tuple(o for o in options if o != old))
    return template.replace(old, new, 1)


def _edit_template(template: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.3:
        edited = _swap_word(template, FORMS, rng)
    elif roll < 0.6:
        edited = _swap_word(template, TONES, rng)
        match = _HEAD.match(edited)  # keep "a"/"an" right after a tone swap
        if match:
            article = "an" if match.group(1)[0] in "aeiou" else "a"
            edited = re.sub(r"^Write an? ", f"Write {article} ", edited)
    else:
        head, tail = _split(template)
        if any(c in tail for c in CONSTRAINTS) and rng.random() < 0.3:
            edited = head + "."  # drop the constraint
        else:
            edited = f"{head}, {_pick(rng, CONSTRAINTS)}."
    return edited if len(edited) <= MAX_TEMPLATE else template


def _edit_theme(theme: str, rng: np.random.Generator) -> str:
    other = _pick(rng, tuple(t for t in THEMES if t != theme))
    if rng.random() < 0.3 and len(theme) + len(other) + 5 <= MAX_THEME:
        return f"{theme} and {other}"  # a blend
    return other


def mutate_data(data: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    child = dict(data)
    roll = rng.random()
    if roll < 0.45:
        child["template"] = _edit_template(data["template"], rng)
    elif roll < 0.8:
        child["theme"] = _edit_theme(data["theme"], rng)
    else:
        low, high = TEMPERATURE_RANGE
        child["temperature"] = round(
            float(np.clip(data["temperature"] + rng.normal(0, 0.15), low, high)), 2
        )
    child["seed"] = int(rng.integers(2**31))  # every child samples afresh
    return child


def crossover_data(
    a: dict[str, Any], b: dict[str, Any], rng: np.random.Generator
) -> dict[str, Any]:
    head, _ = _split(a["template"])
    _, tail = _split(b["template"])
    template = head + tail if len(head + tail) <= MAX_TEMPLATE else a["template"]
    return {
        "template": template,
        "theme": b["theme"] if rng.random() < 0.5 else a["theme"],
        "seed": int(rng.integers(2**31)),
        "temperature": round((a["temperature"] + b["temperature"]) / 2, 2),
    }


def features(data: dict[str, Any]) -> np.ndarray:
    template = data["template"]
    return np.array(
        [
            data["temperature"],
            *(f in template for f in FORMS),
            *(t in template for t in TONES),
            any(c in template for c in CONSTRAINTS),
            " and " in data["theme"],
        ],
        dtype=np.float32,
    )
