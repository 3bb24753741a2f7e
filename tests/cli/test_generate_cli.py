"""The generate / render / contact-sheet commands, run as a user runs them."""

import hashlib
import json

import pytest
from PIL import Image

from tests.conftest import run_cli


def _one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, never a traceback
    assert lines[0].startswith("error:") and fragment in lines[0]


def test_generate_render_and_contact_sheet(tmp_path) -> None:
    out = tmp_path / "works"
    result = run_cli("generate", "--count", "6", "--size", "64", "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 6
    genome_file = tmp_path / "genome.json"
    record = json.loads(lines[0])
    # `genome` writes the file `render` takes; rendered at the work's size, the same bytes.
    printed = run_cli("genome", str(out / "manifest.jsonl"), "--id", record["cid"][-10:])
    assert printed.returncode == 2 and "no work" in printed.stderr  # ids match by prefix
    printed = run_cli("genome", str(out / "manifest.jsonl"), "--id", record["cid"])
    assert printed.returncode == 0, printed.stderr
    genome_file.write_text(printed.stdout)
    assert json.loads(printed.stdout)["data"] == record["genome"]
    again = tmp_path / "again.png"
    assert run_cli("render", str(genome_file), "--size", "64", "--out", str(again)).returncode == 0
    assert hashlib.sha256(again.read_bytes()).hexdigest() == record["sha256"]

    big = tmp_path / "print.png"
    assert run_cli("render", str(genome_file), "--size", "300", "--out", str(big)).returncode == 0
    assert Image.open(big).size == (300, 300)

    sheet = tmp_path / "sheet.png"
    result = run_cli("contact-sheet", str(out), "--out", str(sheet))
    assert result.returncode == 0, result.stderr
    assert Image.open(sheet).size[0] > 3 * 64


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--engine", "nope"], "unknown engine 'nope'"),
        (["--size", "0"], "size must be between 1 and 8192"),
        (["--size", "8193"], "size must be between 1 and 8192"),
        (["--count", "-5"], "count must be positive, got -5"),
        (["--count", "0"], "count must be positive, got 0"),
    ],
)
def test_generate_bad_input_is_one_line(tmp_path, args, fragment) -> None:
    out = tmp_path / "out"
    result = run_cli("generate", "--count", "3", "--out", str(out), *args)
    _one_line_error(result, fragment)
    assert "generating with" not in result.stdout + result.stderr  # no progress bar first
    assert not (out / "manifest.jsonl").exists()


def test_generate_into_unwritable_folder(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("generate", "--count", "3", "--out", str(blocker / "works"))
    _one_line_error(result, "cannot write to")


def test_generate_with_malformed_parents(tmp_path) -> None:
    parents = tmp_path / "parents.json"
    parents.write_text('{"engine": "cppn", "data": ')
    result = run_cli(
        "generate", "--count", "3", "--out", str(tmp_path / "o"), "--parents", str(parents)
    )
    _one_line_error(result, "malformed")


def test_render_malformed_genome(tmp_path) -> None:
    genome = tmp_path / "g.json"
    genome.write_text("{oops")
    result = run_cli("render", str(genome), "--out", str(tmp_path / "x.png"))
    _one_line_error(result, "malformed genome JSON")
    assert not (tmp_path / "x.png").exists()


def test_render_invalid_genome_and_bad_size(tmp_path) -> None:
    genome = tmp_path / "g.json"
    genome.write_text(json.dumps({"engine": "cppn", "data": {"coords": {}}}))
    _one_line_error(run_cli("render", str(genome), "--out", str(tmp_path / "x.png")), "missing")
    _one_line_error(
        run_cli("render", str(genome), "--size", "-1", "--out", str(tmp_path / "x.png")),
        "size must be between",
    )


def test_contact_sheet_of_empty_folder(tmp_path) -> None:
    result = run_cli("contact-sheet", str(tmp_path), "--out", str(tmp_path / "s.png"))
    _one_line_error(result, "no works")


@pytest.mark.slow
def test_thousand_works_twice_are_identical(tmp_path) -> None:
    """The issue's reproducibility check, exactly as a user would run it."""
    for name in ("A", "B"):
        result = run_cli(
            "generate",
            "--count",
            "1000",
            "--size",
            "256",
            "--seed",
            "7",
            "--out",
            str(tmp_path / name),
        )
        assert result.returncode == 0, result.stderr
    a = {p.name: p.read_bytes() for p in (tmp_path / "A").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "B").iterdir()}
    assert len(a) == 1001 and a == b
