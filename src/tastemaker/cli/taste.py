"""``tastemaker taste ...``: test the taste model on a community's own vote history."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from PIL import Image, UnidentifiedImageError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tastemaker.cli import app
from tastemaker.errors import MediaError, UsageError
from tastemaker.settings import get_settings
from tastemaker.store.media import cid_for_bytes
from tastemaker.taste.cache import FeatureCache
from tastemaker.taste.embed_clip import image_embedder
from tastemaker.taste.model import VALIDATED_SETTINGS, TasteModel
from tastemaker.taste.tables import check_known_items, read_items, read_query, read_votes

taste_app = typer.Typer(help="Learn taste from votes and predict approval.", no_args_is_help=True)
app.add_typer(taste_app, name="taste")

_PREDICT_CHUNK = 50_000
# Images larger than this are refused before they are decoded: a 20000x20000 PNG is a
# few kilobytes on disk and 1.2 GB of pixels. 8192x8192 (print size) still passes.
MAX_IMAGE_PIXELS = 8192 * 8192
MAX_IMAGE_BYTES = 64 * 1024 * 1024


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed:>7.0f}/{task.total:<7.0f}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _image_features(cache: FeatureCache, progress: Progress):
    embedder = image_embedder(cache)

    def embed(ids: list[str], paths: list[Path]) -> np.ndarray:
        task = progress.add_task("embedding images", total=len(paths))
        rows = []
        for path in paths:
            try:
                if path.stat().st_size > MAX_IMAGE_BYTES:
                    raise MediaError(f"image {path} is larger than {MAX_IMAGE_BYTES // 2**20} MiB")
                data = path.read_bytes()
                with Image.open(io.BytesIO(data)) as img:
                    width, height = img.size
                    if width * height > MAX_IMAGE_PIXELS:
                        raise MediaError(
                            f"image {path} is {width}x{height} pixels; at most "
                            f"{MAX_IMAGE_PIXELS:,} pixels (8192x8192) are read"
                        )
                    image = np.asarray(img.convert("RGB"))
            except (
                OSError,
                UnidentifiedImageError,
                ValueError,
                Image.DecompressionBombError,
                SyntaxError,  # PIL raises it for some malformed headers
            ) as exc:
                raise MediaError(f"cannot read image {path}: {exc}") from exc
            rows.append(embedder.embed_one(cid_for_bytes(data), image))
            progress.advance(task)
        return np.vstack(rows)

    return embed


def _text_features(cache: FeatureCache, progress: Progress):
    def embed(texts: list[str]) -> np.ndarray:
        from tastemaker.taste.embed_text import TextEmbedder

        task = progress.add_task("embedding texts", total=len(texts))
        out = TextEmbedder(cache).embed(texts)
        progress.update(task, completed=len(texts))
        return out

    return embed


@taste_app.command("predict")
def predict(
    items: Path = typer.Option(..., "--items", help="ITEMS.csv: item_id + text | image | features"),
    train: Path = typer.Option(..., "--train", help="VOTES.csv: member_id,item_id,vote[,weight]"),
    query: Path = typer.Option(..., "--query", help="QUERY.csv: member_id,item_id"),
    out: Path = typer.Option(..., "--out", help="PRED.csv to write: member_id,item_id,p_up"),
    factors: int = typer.Option(
        VALIDATED_SETTINGS["n_factors"], min=0, max=256, help="Personal-taste factors per member."
    ),
    max_iter: int = typer.Option(
        VALIDATED_SETTINGS["max_iter"],
        min=1,
        help="Optimiser iterations of the fit; the refit after the content maps gets half "
        "as many more.",
    ),
    seed: int = typer.Option(0, help="Random seed of the factor initialisation."),
) -> None:
    """Fit the taste model on VOTES.csv and write P(up) for every QUERY.csv row."""
    cache = FeatureCache(get_settings().home / "features")
    with _progress() as progress:
        reading = progress.add_task("reading csv files", total=3)
        votes = read_votes(train)
        progress.advance(reading)
        queries = read_query(query)
        progress.advance(reading)
        item_table = read_items(
            items, _text_features(cache, progress), _image_features(cache, progress)
        )
        progress.advance(reading)
        check_known_items(item_table, votes.item_ids, "votes", train)
        check_known_items(item_table, queries["item_id"].to_numpy(), "query", query)

        fitting = progress.add_task("fitting taste model", total=max_iter)
        settings = {**VALIDATED_SETTINGS, "n_factors": factors, "max_iter": max_iter}
        model = TasteModel(**settings, random_state=seed)
        model.fit(
            votes,
            item_table,
            progress=lambda k, n: progress.update(fitting, completed=k, total=n),
        )
        progress.update(fitting, total=model.n_iter_, completed=model.n_iter_)

        predicting = progress.add_task("predicting", total=len(queries))
        members = queries["member_id"].to_numpy()
        item_ids = queries["item_id"].to_numpy()
        p_up = np.empty(len(queries))
        for start in range(0, len(queries), _PREDICT_CHUNK):
            stop = start + _PREDICT_CHUNK
            p_up[start:stop] = model.predict_proba(members[start:stop], item_ids[start:stop])
            progress.update(predicting, completed=min(stop, len(queries)))

    result = pd.DataFrame({"member_id": members, "item_id": item_ids, "p_up": p_up})
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        result.to_csv(out, index=False, float_format="%.6f")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    Console(stderr=True).print(
        f"wrote {len(result):,} predictions to {out} "
        f"({len(votes):,} votes, {len(item_table):,} items, {_iterations(model, max_iter)})"
    )


def _iterations(model: TasteModel, max_iter: int) -> str:
    """What ``n_iter_`` counts, so ``--max-iter 200`` and 250 iterations agree."""
    if not model.use_content:
        return f"{model.n_iter_} iterations of at most {max_iter}"
    return (
        f"{model.n_iter_} iterations: at most {max_iter} fitting, "
        f"then at most {max_iter // 2} refitting after the content maps"
    )
