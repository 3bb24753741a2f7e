"""Files a hostile user hands the CLI: whatever the bytes, one line and exit 2 (or a
verdict), never a traceback or a crash. Property-based (Hypothesis) where the input
is a file's contents; one subprocess for the segfault that only a real process shows."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tastemaker.cli import main
from tastemaker.cli.safe_json import MAX_DEPTH, parse_json
from tastemaker.core.audit import RECORD_FORMAT
from tastemaker.errors import TastemakerError, UsageError

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    old = sys.argv
    sys.argv = ["tastemaker", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    return code, capsys.readouterr().err


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_are_refused_with_a_usage_error(data: bytes) -> None:
    try:
        parse_json(data, "f.json")
    except UsageError as exc:
        assert "f.json" in str(exc) and "\n" not in str(exc)


@FAST
@given(st.integers(min_value=MAX_DEPTH + 1, max_value=200_000), st.sampled_from("[{"))
def test_deep_nesting_is_refused_before_parsing(depth: int, opener: str) -> None:
    closer = {"[": "]", "{": "}"}[opener]
    body = '{"a":' * depth + "1" + "}" * depth if opener == "{" else opener * depth + closer * depth
    with pytest.raises(UsageError, match="nests deeper"):
        parse_json(body.encode(), "deep.json")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"amount": 1e999}', "too large"),
        ('{"amount": NaN}', "not a number"),
        ('{"amount": -Infinity}', "not a number"),
        ('{"a": "x"', "not JSON"),
    ],
)
def test_numbers_json_does_not_allow_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        parse_json(text.encode(), "r.json")


def test_a_record_nested_100000_deep_is_one_line_not_a_segfault(tmp_path: Path) -> None:
    record = tmp_path / "deep.json"
    record.write_text("[" * 100_000 + "]" * 100_000)
    result = subprocess.run(
        [sys.executable, "-m", "tastemaker", "verify", "--offline", str(record)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "nests deeper" in result.stderr


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(
            st.sampled_from(
                ["votes", "pool", "rewards", "domain", "round", "window", "token_metadata"]
            ),
            json_values,
        ).map(lambda d: json.dumps({"format": RECORD_FORMAT, **d}).encode()),
    )
)
def test_verify_answers_any_file_with_a_verdict_or_one_line(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    path = tmp_path_factory.mktemp("records") / "record.json"
    path.write_bytes(data)
    code, err = _cli(["verify", "--offline", str(path)], capsys)
    assert code in (0, 1, 2), err
    if code == 2:
        assert err.startswith("error:") and err.strip().count("\n") == 0, err


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (and holds almost none)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20_000, 9_000])
def test_taste_predict_refuses_an_image_bomb_with_one_line(tmp_path: Path, side: int) -> None:
    from rich.progress import Progress

    from tastemaker.cli.taste import _image_features
    from tastemaker.taste.cache import FeatureCache

    image = tmp_path / "bomb.png"
    image.write_bytes(_png_header(side, side))
    embed = _image_features(FeatureCache(tmp_path / "features"), Progress(disable=True))
    with pytest.raises(TastemakerError, match=r"bomb\.png") as refused:
        embed(["a"], [image])
    assert "\n" not in str(refused.value)


@FAST
@given(st.binary(max_size=300))
def test_taste_predict_refuses_any_non_image_with_one_line(tmp_path_factory, data: bytes) -> None:
    from rich.progress import Progress

    from tastemaker.cli.taste import _image_features
    from tastemaker.taste.cache import FeatureCache

    folder = tmp_path_factory.mktemp("images")
    image = folder / "x.png"
    image.write_bytes(data)
    embed = _image_features(FeatureCache(folder / "features"), Progress(disable=True))
    try:
        embed(["a"], [image])
    except TastemakerError as exc:
        assert "x.png" in str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_render_answers_any_genome_file_with_one_line(tmp_path_factory, capsys, data) -> None:
    folder = tmp_path_factory.mktemp("genomes")
    genome = folder / "g.json"
    genome.write_bytes(data)
    code, err = _cli(["render", str(genome), "--size", "8", "--out", str(folder / "x.png")], capsys)
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error:") and err.strip().count("\n") == 0, err
