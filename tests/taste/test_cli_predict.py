from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tastemaker.cli import main
from tests.conftest import run_cli


def _invoke(monkeypatch: pytest.MonkeyPatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``tastemaker`` in-process through ``main()`` (the real error handling)."""
    monkeypatch.setattr(sys, "argv", ["tastemaker", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    n_items = 12
    x = rng.standard_normal((n_items, 3))
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(n_items)]})
    for j in range(3):
        items[f"f{j}"] = x[:, j]
    items.to_csv(tmp_path / "items.csv", index=False)
    rows = [
        (f"m{m}", f"i{i}", 1 if x[i, 0] + rng.standard_normal() > 0 else -1)
        for m in range(15)
        for i in rng.choice(n_items - 2, 6, replace=False)
    ]
    pd.DataFrame(rows, columns=["member_id", "item_id", "vote"]).to_csv(
        tmp_path / "votes.csv", index=False
    )
    # A known member, a new member, and an item nobody voted on (i11).
    _write(tmp_path / "query.csv", "member_id,item_id,extra\nm1,i3,x\nnewbie,i4,y\nm2,i11,z\n")
    return {
        "items": tmp_path / "items.csv",
        "train": tmp_path / "votes.csv",
        "query": tmp_path / "query.csv",
        "out": tmp_path / "out" / "pred.csv",
    }


def _args(files: dict[str, Path], **override: Path) -> list[str]:
    merged = {**files, **override}
    return [
        "taste", "predict",
        "--items", str(merged["items"]),
        "--train", str(merged["train"]),
        "--query", str(merged["query"]),
        "--out", str(merged["out"]),
    ]  # fmt: skip


def test_predict_writes_one_row_per_query(files: dict[str, Path]) -> None:
    result = run_cli(*_args(files))
    assert result.returncode == 0, result.stderr
    pred = pd.read_csv(files["out"], dtype={"member_id": str, "item_id": str})
    assert list(pred.columns) == ["member_id", "item_id", "p_up"]
    assert sorted(zip(pred.member_id, pred.item_id, strict=True)) == [
        ("m1", "i3"), ("m2", "i11"), ("newbie", "i4"),
    ]  # fmt: skip
    assert pred.p_up.between(0, 1).all()
    assert "fitting taste model" in result.stderr


def test_predict_with_image_items(files, tmp_path, monkeypatch, capsys) -> None:
    rng = np.random.default_rng(1)
    paths = []
    for k in range(12):
        image = (rng.random((16, 16, 3)) * (k + 1) * 20).clip(0, 255).astype(np.uint8)
        Image.fromarray(image).save(tmp_path / f"w{k}.png")
        paths.append(f"w{k}.png")  # relative to the items file
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(12)], "image": paths})
    items.to_csv(tmp_path / "img_items.csv", index=False)
    code, _, err = _invoke(monkeypatch, capsys, *_args(files, items=tmp_path / "img_items.csv"))
    assert code == 0, err
    assert len(pd.read_csv(files["out"])) == 3


BAD_CASES = {
    "votes missing a column": ("train", "member_id,item_id\nm1,i1\n", "missing column(s) vote"),
    "vote other than 1/-1": (
        "train", "member_id,item_id,vote\nm1,i1,1\nm2,i2,0\n", "1 or -1, got '0' on line 3",
    ),
    "vote written as text": ("train", "member_id,item_id,vote\nm1,i1,up\n", "1 or -1"),
    "negative weight": (
        "train", "member_id,item_id,vote,weight\nm1,i1,1,-3\n", "weight must be a positive",
    ),
    "empty votes file": ("train", "", "is empty"),
    "votes header only": ("train", "member_id,item_id,vote\n", "no rows"),
    "vote for unknown item": ("train", "member_id,item_id,vote\nm1,zzz,1\n", "'zzz'"),
    "query missing a column": ("query", "member_id\nm1\n", "missing column(s) item_id"),
    "duplicate query rows": ("query", "member_id,item_id\nm1,i1\nm2,i2\nm1,i1\n", "duplicate"),
    "empty query file": ("query", "", "is empty"),
    "query for unknown item": ("query", "member_id,item_id\nm1,nope\n", "'nope'"),
    "numeric unknown item": ("train", "member_id,item_id,vote\nm1,2,1\n", "refers to item '2',"),
    "items without item_id": ("items", "id,f0\ni1,0.5\n", "missing column(s) item_id"),
    "items with no features": ("items", "item_id\ni1\n", "needs a text column"),
    "non-numeric feature": ("items", "item_id,f0\ni1,0.5\ni2,abc\n", "needs a number"),
    "duplicate item ids": ("items", "item_id,f0\ni1,0.5\ni1,0.7\n", "appears twice"),
    "unreadable image path": ("items", "item_id,image\ni1,/no/such.png\n", "cannot read image"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_clear_line(case, files, tmp_path, monkeypatch, capsys) -> None:
    which, content, message = BAD_CASES[case]
    bad = _write(tmp_path / f"bad_{which}.csv", content)
    code, _, err = _invoke(monkeypatch, capsys, *_args(files, **{which: bad}))
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip().startswith("error:")]
    assert len(lines) == 1, err
    assert message in " ".join(err.split())
    assert "np." not in err  # values as a user wrote them, not numpy reprs
    assert not files["out"].exists()


def test_missing_input_file(files, tmp_path, monkeypatch, capsys) -> None:
    code, _, err = _invoke(monkeypatch, capsys, *_args(files, train=tmp_path / "absent.csv"))
    assert code == 2
    assert "does not exist" in err


def test_the_iteration_report_agrees_with_max_iter(files, tmp_path, monkeypatch, capsys) -> None:
    code, _, err = _invoke(monkeypatch, capsys, *_args(files), "--max-iter", "6")
    assert code == 0, err
    report = " ".join(err.split())
    done = int(report.split(" iterations")[0].rsplit(" ", 1)[1])
    assert "at most 6 fitting, then at most 3 refitting" in report
    assert done <= 6 + 3  # what was reported is within what --max-iter allows
