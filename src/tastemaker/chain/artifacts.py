"""Compile the Vyper contracts (with snekmate on the import path) and cache the
ABI and bytecode, keyed by the source and compiler version, under
``<home>/chain/artifacts``. Compiling all five takes a few seconds; a cache hit is
a JSON read."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).parent / "contracts"
CONTRACT_NAMES = ("TasteToken", "Staking", "Works", "AuctionHouse", "RewardDistributor")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code


def source_path(name: str) -> Path:
    return CONTRACTS_DIR / f"{name}.vy"


def _fingerprint(name: str) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(f"vyper {version('vyper')} snekmate {version('snekmate')}".encode())
    digest.update(source_path(name).read_bytes())
    return digest.hexdigest()[:16]


def compile_contract(name: str) -> Artifact:
    """Compile one contract from source (no cache)."""
    import vyper
    from vyper.cli.vyper_compile import get_search_paths
    from vyper.compiler.input_bundle import FilesystemInputBundle

    path = source_path(name)
    bundle = FilesystemInputBundle(get_search_paths([str(CONTRACTS_DIR)]))
    out = vyper.compile_code(
        path.read_text(),
        contract_path=path.name,
        resolved_path=path,
        input_bundle=bundle,
        output_formats=["abi", "bytecode"],
    )
    return Artifact(name=name, abi=out["abi"], bytecode=out["bytecode"])


def load_artifact(name: str, cache_dir: Path | None) -> Artifact:
    """The compiled contract, from ``cache_dir`` when its source is unchanged."""
    if name not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {name!r}")
    key = f"{name}-{_fingerprint(name)}"
    if key in _memo:
        return _memo[key]
    artifact = _load_or_compile(name, key, cache_dir)
    _memo[key] = artifact
    return artifact


# Compiled artifacts of this process, so several deployments compile once.
_memo: dict[str, Artifact] = {}


def _load_or_compile(name: str, key: str, cache_dir: Path | None) -> Artifact:
    if cache_dir is None:
        return compile_contract(name)
    cached = cache_dir / f"{key}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        return Artifact(name=name, abi=data["abi"], bytecode=data["bytecode"])
    artifact = compile_contract(name)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"abi": artifact.abi, "bytecode": artifact.bytecode}))
    tmp.replace(cached)  # atomic: a concurrent reader never sees half a file
    return artifact
