"""Reading and checking the CSV files of ``tastemaker taste predict``.

ITEMS.csv: ``item_id`` plus either ``text``, or ``image`` (a path, relative to the CSV's
folder unless absolute), or numeric feature columns. VOTES.csv: ``member_id,item_id,vote``
with vote 1/-1 and an optional positive ``weight``. QUERY.csv: ``member_id,item_id``.
Every problem raises ``UsageError`` (or ``MediaError``) with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from tastemaker.errors import UsageError
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.embed_text import text_statistics


def read_csv(path: Path, what: str, required: tuple[str, ...]) -> pd.DataFrame:
    """A non-empty CSV with the ``required`` columns; ids are read as strings."""
    try:
        frame = pd.read_csv(path, dtype={"member_id": str, "item_id": str})
    except FileNotFoundError as exc:
        raise UsageError(f"{what} file {path} does not exist") from exc
    except pd.errors.EmptyDataError as exc:
        raise UsageError(f"{what} file {path} is empty") from exc
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot read {what} file {path}: {first}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{what} file {path} is missing column(s) {', '.join(missing)}; "
            f"it has {', '.join(frame.columns) or 'none'}"
        )
    if frame.empty:
        raise UsageError(f"{what} file {path} has a header but no rows")
    for column in required:
        if column.endswith("_id") and frame[column].isna().any():
            row = int(frame[column].isna().to_numpy().argmax()) + 2
            raise UsageError(f"{what} file {path}: empty {column} on line {row}")
    return frame


def read_votes(path: Path) -> Votes:
    """Votes from VOTES.csv; a member's later vote on the same item replaces the earlier."""
    frame = read_csv(path, "votes", ("member_id", "item_id", "vote"))
    vote = pd.to_numeric(frame["vote"], errors="coerce")
    bad = ~vote.isin([1, -1])
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise UsageError(
            f"votes file {path}: vote must be 1 or -1, got {str(frame['vote'].iloc[row])!r} "
            f"on line {row + 2}"
        )
    weight = None
    if "weight" in frame.columns:
        w = pd.to_numeric(frame["weight"], errors="coerce")
        bad = ~(np.isfinite(w) & (w > 0))
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise UsageError(
                f"votes file {path}: weight must be a positive number, got "
                f"{str(frame['weight'].iloc[row])!r} on line {row + 2}"
            )
        weight = w.to_numpy(dtype=float)
    keep = ~frame.duplicated(["member_id", "item_id"], keep="last").to_numpy()
    return Votes.from_arrays(
        frame["member_id"].to_numpy()[keep],
        frame["item_id"].to_numpy()[keep],
        vote.to_numpy()[keep],
        None if weight is None else weight[keep],
    )


def read_query(path: Path) -> pd.DataFrame:
    frame = read_csv(path, "query", ("member_id", "item_id"))[["member_id", "item_id"]]
    dup = frame.duplicated()
    if dup.any():
        row = int(dup.to_numpy().argmax())
        raise UsageError(
            f"query file {path}: duplicate row member_id={frame['member_id'].iloc[row]}, "
            f"item_id={frame['item_id'].iloc[row]} on line {row + 2}"
        )
    return frame


def item_kind(frame: pd.DataFrame) -> str:
    """'text', 'image' or 'numeric': how ITEMS.csv describes its items."""
    if "text" in frame.columns:
        return "text"
    if "image" in frame.columns:
        return "image"
    return "numeric"


def read_items(
    path: Path,
    embed_texts: Callable[[list[str]], np.ndarray],
    embed_images: Callable[[list[str], list[Path]], np.ndarray],
) -> Items:
    """Item features from ITEMS.csv, embedding text or images with the given functions."""
    frame = read_csv(path, "items", ("item_id",))
    dup = frame["item_id"].duplicated()
    if dup.any():
        raise UsageError(
            f"items file {path}: item_id {str(frame['item_id'][dup].iloc[0])!r} appears twice"
        )
    ids = frame["item_id"].to_numpy()
    kind = item_kind(frame)
    if kind == "text":
        texts = frame["text"]
        if texts.isna().any():
            row = int(texts.isna().to_numpy().argmax()) + 2
            raise UsageError(f"items file {path}: empty text on line {row}")
        texts = [str(t) for t in texts]
        stats = text_statistics(texts)
        return Items.from_arrays(ids, np.hstack([embed_texts(texts), stats]), stats.shape[1])
    if kind == "image":
        images = frame["image"]
        if images.isna().any():
            row = int(images.isna().to_numpy().argmax()) + 2
            raise UsageError(f"items file {path}: empty image path on line {row}")
        paths = [Path(p) if Path(p).is_absolute() else path.parent / p for p in images]
        return Items.from_arrays(ids, embed_images([str(i) for i in ids], paths))
    columns = [c for c in frame.columns if c != "item_id"]
    if not columns:
        raise UsageError(
            f"items file {path} needs a text column, an image column or numeric feature columns"
        )
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            row = int(values.isna().to_numpy().argmax())
            raise UsageError(
                f"items file {path}: feature column {column!r} needs a number on line {row + 2}, "
                f"got {str(frame[column].iloc[row])!r}"
            )
        frame[column] = values
    return Items.from_arrays(ids, frame[columns].to_numpy(dtype=float))


def check_known_items(items: Items, item_ids: np.ndarray, what: str, path: Path) -> None:
    unknown = ~np.isin(item_ids, items.ids)
    if unknown.any():
        raise UsageError(
            f"{what} file {path} refers to item {str(item_ids[unknown][0])!r}, "
            "which is not in the items file"
        )
