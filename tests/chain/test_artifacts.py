"""The shipped contract artifacts are the compiled current sources."""

import pytest

from tastemaker.chain import artifacts


@pytest.mark.parametrize("name", artifacts.CONTRACT_NAMES)
def test_shipped_artifact_matches_source(name):
    key = f"{name}-{artifacts.fingerprint(name)}"
    shipped = artifacts._read(artifacts.BUILD_DIR / f"{name}.json", name, key)
    assert shipped is not None, (
        f"build/{name}.json is stale: run `python -m tastemaker.chain.artifacts`"
    )
    fresh = artifacts.compile_contract(name)
    assert shipped.bytecode == fresh.bytecode
    assert shipped.abi == fresh.abi


def test_stale_source_falls_back_to_compiling(tmp_path, monkeypatch):
    monkeypatch.setattr(artifacts, "BUILD_DIR", tmp_path / "nothing-shipped")
    monkeypatch.setattr(artifacts, "_memo", {})
    built = artifacts.load_artifact("RewardDistributor", tmp_path / "cache")
    assert built.bytecode.startswith("0x")
    assert list((tmp_path / "cache").glob("RewardDistributor-*.json"))
