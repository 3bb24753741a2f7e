"""Genomes: the full, JSON-serialisable recipe of a work, with a content id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tastemaker.errors import GenomeError


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class Genome:
    """An engine-specific recipe (``data``) plus the engine that reads it.

    The id hashes the engine name and the recipe, not the lineage: two identical
    recipes are the same genome whoever their parents were.
    """

    engine: str
    data: dict[str, Any]
    parents: tuple[str, ...] = field(default=())

    @cached_property  # computed once: treat ``data`` as frozen too, as every operator does
    def id(self) -> str:
        payload = canonical_json({"engine": self.engine, "data": self.data})
        return hashlib.sha256(payload.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"engine": self.engine, "data": self.data, "parents": list(self.parents)}

    @classmethod
    def from_json(cls, value: Any) -> Genome:
        if not isinstance(value, dict):
            raise GenomeError("a genome must be a JSON object")
        missing = {"engine", "data"} - value.keys()
        if missing:
            raise GenomeError(f"genome is missing {', '.join(sorted(missing))}")
        engine, data = value["engine"], value["data"]
        parents = value.get("parents", [])
        if not isinstance(engine, str) or not isinstance(data, dict):
            raise GenomeError("genome 'engine' must be a string and 'data' an object")
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise GenomeError("genome 'parents' must be a list of ids")
        return cls(engine=engine, data=data, parents=tuple(parents))

    @classmethod
    def loads(cls, text: str) -> Genome:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GenomeError(f"malformed genome JSON: {exc.msg} at line {exc.lineno}") from exc
        return cls.from_json(value)
