"""The prompt grammar: a prompt is a subject, a scene, a medium, a style and a few
modifiers, composed into one line of text.

Botto composes its prompts at random from fragments like these and lets the taste
model pick; here mutation swaps one part for another from the same slot and crossover
takes each part from either parent, so evolution edits prompts the way a person
would. A genome keeps the parts themselves, so a change to these lists never changes
an existing genome's prompt.
"""

from __future__ import annotations

from typing import Any

SUBJECTS: tuple[str, ...] = (
    "a lighthouse", "a lone figure", "a sleeping giant", "a cathedral of glass",
    "a flock of paper birds", "an abandoned observatory", "a coral city", "a clockwork heart",
    "a mountain shrine", "a drowned piano", "a fox made of smoke", "twin moons",
    "a spiral staircase", "a field of sunflowers", "a sunken ship", "a dancer",
    "a moth the size of a house", "an orchard in winter", "a lantern festival",
    "a forgotten robot", "a whale in the sky", "a desert caravan", "a hall of mirrors",
    "a garden of crystals", "a portrait of an old sailor", "a burning library",
    "a tiny island", "a tree of light", "a masked stranger", "an empty theatre",
)  # fmt: skip
SCENES: tuple[str, ...] = (
    "", "at dawn", "at the edge of a frozen sea", "in a thunderstorm", "under the northern lights",
    "in a dense fog", "on a distant planet", "inside a dream", "at the bottom of the ocean",
    "in a neon city at night", "among ruins", "in a hall of clouds", "at golden hour",
    "in the rain", "floating in space", "in a quiet forest",
)  # fmt: skip
MEDIA: tuple[str, ...] = (
    "oil painting", "watercolour", "ink drawing", "linocut print", "charcoal sketch",
    "gouache", "stained glass", "mosaic", "tapestry", "35mm photograph", "cyanotype",
    "digital painting", "fresco", "pastel drawing", "collage", "etching",
)  # fmt: skip
STYLES: tuple[str, ...] = (
    "in the style of ukiyo-e", "art nouveau", "surrealism", "abstract expressionism",
    "baroque", "bauhaus", "romanticism", "pointillism", "cubism", "art deco",
    "psychedelic art", "minimalism", "symbolism", "futurism", "pre-raphaelite",
    "brutalist", "visionary art", "impressionism", "fauvism", "gothic",
)  # fmt: skip
MODIFIERS: tuple[str, ...] = (
    "volumetric light", "muted palette", "vivid colours", "high contrast", "soft focus",
    "intricate detail", "dramatic shadows", "pastel tones", "monochrome", "iridescent",
    "long exposure", "wide angle", "symmetrical composition", "golden ratio",
    "film grain", "highly detailed", "ethereal", "melancholic", "whimsical", "ominous",
    "cinematic lighting", "glowing", "textured brushstrokes", "bokeh",
)  # fmt: skip
SLOTS: dict[str, tuple[str, ...]] = {
    "subject": SUBJECTS,
    "scene": SCENES,
    "medium": MEDIA,
    "style": STYLES,
}
MAX_MODIFIERS = 6
MAX_PART_CHARS = 200


def compose(prompt: dict[str, Any]) -> str:
    """One line of text: "subject scene, medium, style, modifier, modifier"."""
    head = " ".join(p for p in (prompt["subject"], prompt["scene"]) if p)
    parts = [head, prompt["medium"], prompt["style"], *prompt["modifiers"]]
    return ", ".join(p for p in parts if p)
