"""Find engines by name: built-ins plus third-party ones from the
``tastemaker.engines`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from tastemaker.errors import UsageError
from tastemaker.generate.engine import Engine

ENTRY_POINT_GROUP = "tastemaker.engines"


def _builtin() -> dict[str, type]:
    from tastemaker.generate.cppn import CPPNEngine

    return {"cppn": CPPNEngine}


def available_engines() -> list[str]:
    names = set(_builtin())
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


@cache
def get_engine(name: str) -> Engine:
    """The engine called ``name``; raises ``UsageError`` naming the known ones if absent."""
    builtin = _builtin()
    if name in builtin:
        return builtin[name]()
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        engine = ep.load()()
        if not isinstance(engine, Engine):
            raise UsageError(f"entry point {name!r} does not provide a Tastemaker engine")
        return engine
    raise UsageError(f"unknown engine {name!r}; known engines: {', '.join(available_engines())}")
