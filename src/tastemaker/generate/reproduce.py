"""Re-make a work from its recipe and check it gives the same bytes.

A work's content hash (sha256 of its media) is its identity on chain; anyone holding
the recipe (engine, engine version, size, genome) of a reproducible engine can make
the bytes again. Works of a model-backed engine (``reproducible = False``) and
imported works cannot always be re-made; the check says so rather than failing them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tastemaker.core.media import is_text
from tastemaker.errors import GenomeError, TastemakerError
from tastemaker.generate.batch import check_size
from tastemaker.generate.genome import Genome
from tastemaker.generate.registry import get_engine


def render_recipe(recipe: Any) -> bytes:
    """Media bytes of ``{"engine", "engine_version", "size", "genome"}``."""
    if not isinstance(recipe, dict):
        raise GenomeError("a work's recipe must be an object")
    engine_name, version, size = (recipe.get(k) for k in ("engine", "engine_version", "size"))
    if not isinstance(engine_name, str) or not isinstance(version, str):
        raise GenomeError("a work's recipe needs 'engine' and 'engine_version' strings")
    if not isinstance(size, int) or isinstance(size, bool):
        raise GenomeError("a work's recipe needs an integer 'size'")
    genome = Genome.from_json({"engine": engine_name, "data": recipe.get("genome")})
    engine = get_engine(engine_name, version)
    if size != 0 or not any(is_text(t) for t in engine.media_types):
        check_size(size)  # a text work records size 0
    engine.validate(genome)
    return engine.make(genome, size).data


def check_rerender(recipe: Any, content_hash: str) -> tuple[bool, str]:
    """(ok, detail): does the recipe render to the bytes named by ``content_hash``?"""
    name = recipe.get("engine") if isinstance(recipe, dict) else None
    if isinstance(name, str):
        try:
            reproducible = get_engine(name).reproducible
        except TastemakerError:
            reproducible = True  # let render_recipe name the problem
        if not reproducible:
            return True, f"not checked: {name} works are what its model gave, not re-made"
    try:
        digest = hashlib.sha256(render_recipe(recipe)).hexdigest()
    except TastemakerError as exc:
        return False, f"cannot re-render: {exc}"
    want = content_hash.removeprefix("0x").lower()
    if digest == want:
        return True, f"{recipe['engine']} {recipe['engine_version']} gives {want[:16]}…"
    return False, f"the recipe renders to {digest[:16]}…, not the winner {want[:16]}…"
