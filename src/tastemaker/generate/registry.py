"""Find engines by name: built-ins plus third-party ones from the
``tastemaker.engines`` entry-point group."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from tastemaker.errors import UsageError
from tastemaker.generate.engine import Engine

ENTRY_POINT_GROUP = "tastemaker.engines"


def _builtin() -> dict[str, type]:
    from tastemaker.generate.cppn import CPPNEngine
    from tastemaker.generate.diffusion import DiffusionEngine  # imports no torch
    from tastemaker.generate.flame import FlameEngine
    from tastemaker.generate.llm import LLMEngine
    from tastemaker.generate.submissions import SubmissionsEngine

    return {
        "cppn": CPPNEngine,
        "diffusion": DiffusionEngine,
        "flame": FlameEngine,
        "llm": LLMEngine,
        "submissions": SubmissionsEngine,
    }


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
        cls = builtin[name]
        if version is not None and hasattr(cls, "versions"):  # keeps old versions rendering
            return cls(version)
        return _checked(name, cls(), version)
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        engine = ep.load()()
        if not isinstance(engine, Engine):
            raise UsageError(f"entry point {name!r} does not provide a Tastemaker engine")
        return _checked(name, engine, version)
    raise UsageError(f"unknown engine {name!r}; known engines: {', '.join(available_engines())}")


def _checked(name: str, engine: Engine, version: str | None) -> Engine:
    if version is not None and engine.version != version:
        raise UsageError(f"engine {name!r} renders version {engine.version}, not {version}")
    return engine


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    media_types: tuple[str, ...]
    unavailable: str | None  # None: can run here; else what it needs


def describe_engines() -> list[EngineInfo]:
    """Every known engine with its media types and whether it can run here; an
    engine that fails to load is listed with the reason, not raised."""
    infos = []
    for name in available_engines():
        try:
            engine = get_engine(name)
            infos.append(
                EngineInfo(name, engine.version, tuple(engine.media_types), engine.unavailable())
            )
        except Exception as exc:  # a plugin's missing dependency must not hide the others
            infos.append(EngineInfo(name, "?", (), f"cannot load: {exc}"))
    return infos
