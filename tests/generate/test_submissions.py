"""The submissions engine: importing images and texts made elsewhere, all or nothing,
and drawing candidates from them."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tastemaker.core.media import IMAGE_PNG, TEXT_MARKDOWN, TEXT_PLAIN
from tastemaker.errors import UsageError
from tastemaker.generate import Engine
from tastemaker.generate.batch import generate_works
from tastemaker.generate.reproduce import check_rerender
from tastemaker.generate.submissions import SubmissionsEngine, import_submissions
from tests.conftest import run_cli

JOKES = Path("/work/shared/data/jester/jokes.csv")


def _images(folder: Path, n: int = 3) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 255, (20 + i, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"art-{i}.{'png' if i % 2 else 'jpg'}")
    return folder


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_imports_a_folder_of_images_as_png_works(tmp_path) -> None:
    records = import_submissions(_images(tmp_path / "art"), tmp_path / "out")
    assert [r.genome["item_id"] for r in records] == ["art-0.jpg", "art-1.png", "art-2.jpg"]
    for r in records:
        assert r.media_type == IMAGE_PNG and r.file.endswith(".png") and r.engine == "submissions"
        assert Image.open(tmp_path / "out" / r.file).mode == "RGB"
    png = Image.open(tmp_path / "art" / "art-1.png")
    assert np.array_equal(
        np.asarray(Image.open(tmp_path / "out" / records[1].file)), np.asarray(png)
    )
    again = import_submissions(tmp_path / "art", tmp_path / "again")
    assert [r.sha256 for r in again] == [r.sha256 for r in records]  # deterministic bytes


def test_imports_texts_from_csv_and_jsonl(tmp_path) -> None:
    csv_records = import_submissions(
        _csv(
            tmp_path / "t.csv", 'item_id,text\nj1,"A ""quoted"" joke,\nover lines"\nj2,Short one\n'
        ),
        tmp_path / "a",
    )
    assert [r.media_type for r in csv_records] == [TEXT_PLAIN, TEXT_PLAIN]
    assert (tmp_path / "a" / csv_records[0].file).read_text() == 'A "quoted" joke,\nover lines'
    lines = [{"item_id": 7, "text": "# Title\n\n*markdown*", "media_type": TEXT_MARKDOWN},
             {"item_id": "b", "text": "plain"}]  # fmt: skip
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    records = import_submissions(jsonl, tmp_path / "b")
    assert [(r.genome["item_id"], r.media_type) for r in records] == [
        ("7", TEXT_MARKDOWN),
        ("b", TEXT_PLAIN),
    ]
    assert records[0].file.endswith(".md")


@pytest.mark.skipif(not JOKES.exists(), reason="needs the shared Jester data")
def test_imports_the_jester_jokes(tmp_path) -> None:
    records = import_submissions(JOKES, tmp_path / "jokes")
    assert len(records) == 70 and records[0].genome["item_id"] == "j1"


def _bomb(path: Path) -> None:
    """A valid PNG header declaring 20000 x 20000 pixels, in a few hundred bytes."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (
            lambda p: (p / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really"),
            "cannot read image",
        ),
        (lambda p: _bomb(p / "huge.png"), "huge.png is too large an image"),
        (lambda p: (p / "notes.txt").write_text("hi"), "not images: notes.txt"),
    ],
)
def test_a_bad_image_imports_nothing(tmp_path, make, fragment) -> None:
    folder = _images(tmp_path / "art")
    make(folder)
    out = tmp_path / "out"
    with pytest.raises(UsageError, match=re.escape(fragment)):
        import_submissions(folder, out)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"id,body\n1,x\n", "needs the columns item_id,text"),
        (b'item_id,text\nj1,"unclosed\n', "not valid CSV"),
        (b"item_id,text\nj1,ok\nj2,caf\xe9\n", "is not UTF-8 (line 3"),
        (b"item_id,text\nj1,ok\nj1,again\n", "'j1' appears twice"),
        (b"item_id,text\nj1,   \n", "cannot be empty"),
        (b"item_id,text\nj1," + b"x" * 20000 + b"\n", "a text work holds at most"),
        (b"item_id,text\nj1,ok,extra\n", "expected 2 columns"),
        (b"item_id,text\n", "holds no works"),
    ],
)
def test_a_bad_csv_imports_nothing(tmp_path, content, fragment) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    out = tmp_path / "out"
    with pytest.raises(UsageError, match=re.escape(fragment)):
        import_submissions(path, out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"item_id": "a", "text": "ok"}\n{"item_id": "b"\n', "line 2 is not JSON"),
        ('{"item_id": "a"}\n', "expected an object with item_id and text"),
        ('{"item_id": "a", "text": "x", "media_type": "image/png"}\n', "media_type must be"),
        ('{"item_id": true, "text": "x"}\n', "item_id must be"),
    ],
)
def test_a_bad_jsonl_imports_nothing(tmp_path, content, fragment) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises(UsageError, match=re.escape(fragment)):
        import_submissions(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_engine_draws_candidates_from_the_import(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "imported"
    imported = import_submissions(_csv(tmp_path / "t.csv", "item_id,text\n" + "".join(
        f"j{i},Joke number {i} walks into a bar\n" for i in range(12))), folder)  # fmt: skip
    engine = SubmissionsEngine()
    assert isinstance(engine, Engine)
    with pytest.raises(UsageError, match="TASTEMAKER_SUBMISSIONS_DIR"):
        engine.random(np.random.default_rng(0))
    monkeypatch.setenv("TASTEMAKER_SUBMISSIONS_DIR", str(folder))
    drawn = generate_works(8, 256, 1, tmp_path / "round", engine_name="submissions")
    assert len(drawn) == 8 and len({r.sha256 for r in drawn}) == 8
    assert {r.sha256 for r in drawn} <= {r.sha256 for r in imported}
    # asking for more than there are gives them all, not an error
    assert len(generate_works(50, 256, 1, tmp_path / "all", engine_name="submissions")) == 12
    recipe = {
        "engine": "submissions",
        "engine_version": "1.0",
        "size": 0,
        "genome": drawn[0].genome,
    }
    assert check_rerender(recipe, drawn[0].sha256)[0]


def test_image_draws_re_make_from_the_import_folder(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "imported"
    imported = import_submissions(_images(tmp_path / "art"), folder)
    monkeypatch.setenv("TASTEMAKER_SUBMISSIONS_DIR", str(folder))
    record = imported[0]
    recipe = {"engine": "submissions", "engine_version": "1.0", "size": record.size,
              "genome": record.genome}  # fmt: skip
    assert check_rerender(recipe, record.sha256) == (True, check_rerender(recipe, record.sha256)[1])
    (folder / record.file).write_bytes(b"tampered")
    ok, detail = check_rerender(recipe, record.sha256)
    assert not ok and "corrupt" in detail


def test_cli_imports_and_refuses_with_one_line(tmp_path) -> None:
    out = tmp_path / "out"
    ok = run_cli(
        "generate",
        "--engine",
        "submissions",
        "--from",
        str(_images(tmp_path / "a")),
        "--out",
        str(out),
    )
    assert ok.returncode == 0, ok.stderr
    assert "imported 3 works" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"item_id,text\nj1,\xff\n")
    result = run_cli(
        "generate", "--engine", "submissions", "--from", str(bad), "--out", str(tmp_path / "o2")
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not UTF-8" in lines[0]
    assert not (tmp_path / "o2").exists()
    listing = run_cli("engines")
    assert listing.returncode == 0
    names = {line.split()[0]: line for line in listing.stdout.splitlines()}
    assert {"cppn", "flame", "llm", "submissions"} <= names.keys()
    assert "image/png" in names["cppn"] and "text/plain" in names["submissions"]
