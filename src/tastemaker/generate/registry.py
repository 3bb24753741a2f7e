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
    from tastemaker.generate.diffusion import DiffusionEngine  # imports no torch
    from tastemaker.generate.flame import FlameEngine

    return {"cppn": CPPNEngine, "diffusion": DiffusionEngine, "flame": FlameEngine}


def available_engines() -> list[str]:
    names = set(_builtin())
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


@cache
def get_engine(name: str, version: str | None = None) -> Engine:
    """The engine called ``name``, rendering as ``version`` (default: its current one).

    Raises ``UsageError`` naming the known engines if absent, or if the engine cannot
    render that version. A stored work is re-rendered by the version that made it.
    """
    builtin = _builtin()
    if name in builtin:
        return builtin[name]() if version is None else builtin[name](version)
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        engine = ep.load()()
        if not isinstance(engine, Engine):
            raise UsageError(f"entry point {name!r} does not provide a Tastemaker engine")
        if version is not None and engine.version != version:
            raise UsageError(f"engine {name!r} renders version {engine.version}, not {version}")
        return engine
    raise UsageError(f"unknown engine {name!r}; known engines: {', '.join(available_engines())}")
