"""ABI and bytecode of the contracts.

The package ships compiled artifacts (``build/<Name>.json``), each stamped with the
fingerprint of the source and compiler it came from, so deployment needs no compiler
run and deploys the exact bytecode that was tested. When a source (or the installed
vyper/snekmate) no longer matches the stamp, the contract is compiled from source
and cached under ``<home>/chain/artifacts``. Rebuild the shipped files after editing
a contract with ``python -m tastemaker.chain.artifacts``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).parent / "contracts"
BUILD_DIR = Path(__file__).parent / "build"
CONTRACT_NAMES = ("Timelock", "TasteToken", "Staking", "Works", "AuctionHouse", "RewardDistributor")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code


def source_path(name: str) -> Path:
    return CONTRACTS_DIR / f"{name}.vy"


def fingerprint(name: str) -> str:
    """Hash of the contract source and the compiler and library versions."""
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
    """The compiled contract: shipped if current, else from ``cache_dir`` or compiled."""
    if name not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {name!r}")
    key = f"{name}-{fingerprint(name)}"
    if key not in _memo:
        _memo[key] = (
            _read(BUILD_DIR / f"{name}.json", name, key)
            or (cache_dir and _read(cache_dir / f"{key}.json", name, key))
            or _compile_and_cache(name, key, cache_dir)
        )
    return _memo[key]


# Artifacts already loaded by this process.
_memo: dict[str, Artifact] = {}


def _read(path: Path, name: str, key: str) -> Artifact | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if data.get("key") != key:
        return None
    return Artifact(name=name, abi=data["abi"], bytecode=data["bytecode"])


def _write(path: Path, artifact: Artifact, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    data = {"key": key, "abi": artifact.abi, "bytecode": artifact.bytecode}
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)  # atomic: a concurrent reader never sees half a file


def _compile_and_cache(name: str, key: str, cache_dir: Path | None) -> Artifact:
    artifact = compile_contract(name)
    if cache_dir is not None:
        _write(cache_dir / f"{key}.json", artifact, key)
    return artifact


def build_shipped() -> list[Path]:
    """Recompile every contract into ``build/`` (run after editing a contract)."""
    written = []
    for name in CONTRACT_NAMES:
        path = BUILD_DIR / f"{name}.json"
        _write(path, compile_contract(name), f"{name}-{fingerprint(name)}")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in build_shipped():
        print(written_path, file=sys.stderr)
