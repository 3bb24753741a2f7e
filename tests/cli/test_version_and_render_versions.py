"""`tastemaker --version`, and `render` with the engine version that made a work."""

import hashlib
import json
from importlib.metadata import version

from PIL import Image

from tests.conftest import run_cli


def test_version_prints_the_installed_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tastemaker {version('tastemaker')}"


def test_render_reproduces_a_generated_work_and_renders_older_versions(tmp_path) -> None:
    out = tmp_path / "works"
    assert run_cli("generate", "--count", "2", "--size", "64", "--out", str(out)).returncode == 0
    record = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])
    genome = tmp_path / "genome.json"
    genome.write_text(json.dumps({"engine": record["engine"], "data": record["genome"]}))
    again = tmp_path / "again.png"
    made = run_cli("render", str(genome), "--size", "64", "--out", str(again))
    assert made.returncode == 0, made.stderr
    assert hashlib.sha256(again.read_bytes()).hexdigest() == record["sha256"]

    old = tmp_path / "old.png"
    args = ("render", str(genome), "--size", "64", "--out", str(old))
    assert run_cli(*args, "--engine-version", "1.0").returncode == 0
    assert Image.open(old).size == (64, 64)
    refused = run_cli(*args, "--engine-version", "7.0")
    assert refused.returncode == 2 and "no version '7.0'" in refused.stderr


def test_render_picks_a_work_from_a_manifest_by_id(tmp_path) -> None:
    out = tmp_path / "works"
    assert run_cli("generate", "--count", "3", "--size", "48", "--out", str(out)).returncode == 0
    manifest = out / "manifest.jsonl"
    record = json.loads(manifest.read_text().splitlines()[1])
    again = tmp_path / "again.png"
    args = ("render", str(manifest), "--size", "48", "--out", str(again))
    made = run_cli(*args, "--id", record["cid"][:16])
    assert made.returncode == 0, made.stderr
    assert hashlib.sha256(again.read_bytes()).hexdigest() == record["sha256"]
    for bad, message in (("abc", "at least 6"), ("ffffffffffff", "no work")):
        refused = run_cli(*args, "--id", bad)
        assert refused.returncode == 2 and message in refused.stderr
    whole = run_cli(*args)
    assert whole.returncode == 2 and "pick one" in whole.stderr
