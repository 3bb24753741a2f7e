"""Text embedding speed: the numpy MiniLM (taste.embed_text) against sentence-transformers.

Embeds N short texts (sentences of the Jester jokes, recombined, about 10-40 tokens)
with each implementation and prints JSON: texts/s by CPU time and by wall time, and the
two's agreement (cosine of each text's vectors). sentence-transformers (and torch) are
measured only when installed; the numpy path needs only the `text` extra.

Usage: python benchmarks/embed_text.py [--count 10000] [--batch 64] [--jokes PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from pathlib import Path

import numpy as np


def short_texts(jokes: Path, count: int) -> list[str]:
    with jokes.open(newline="", encoding="utf-8") as f:
        text = " ".join(row["text"] for row in csv.DictReader(f))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]
    rng = np.random.default_rng(0)
    out = []
    while len(out) < count:  # one or two sentences each: distinct, short texts
        k = rng.integers(len(sentences), size=2)
        out.append(sentences[k[0]] + (" " + sentences[k[1]] if rng.random() < 0.5 else ""))
    return out


def timed(fn) -> tuple[np.ndarray, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--jokes", type=Path, default=Path("../shared/data/jester/jokes.csv"))
    args = parser.parse_args()
    texts = short_texts(args.jokes, args.count)

    from tastemaker.taste.embed_text import _load_model, model_dir

    model = _load_model()
    model.encode(texts[:8])  # load and compile outside the timing
    ours, cpu, wall = timed(lambda: model.encode(texts, args.batch))
    tokens = [len(t) for t in model.token_ids(texts)]
    result: dict = {
        "texts": len(texts),
        "mean_tokens": round(float(np.mean(tokens)), 1),
        "batch": args.batch,
        "numpy": {"texts_per_cpu_s": round(len(texts) / cpu, 1),
                  "texts_per_wall_s": round(len(texts) / wall, 1)},
    }  # fmt: skip
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        result["sentence_transformers"] = "not installed"
    else:
        import torch

        st = SentenceTransformer(str(model_dir()), device="cpu")
        st.encode(texts[:8])
        theirs, cpu, wall = timed(
            lambda: st.encode(texts, batch_size=args.batch, normalize_embeddings=True,
                              convert_to_numpy=True, show_progress_bar=False)
        )  # fmt: skip
        cosine = np.sum(ours * theirs, axis=1)
        result["sentence_transformers"] = {
            "torch_threads": torch.get_num_threads(),
            "texts_per_cpu_s": round(len(texts) / cpu, 1),
            "texts_per_wall_s": round(len(texts) / wall, 1),
        }
        result["cosine_min"] = float(cosine.min())
        result["cosine_mean"] = float(cosine.mean())
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
