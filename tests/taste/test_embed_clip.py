"""CLIP image embeddings from local weights: tiny random CLIP models saved to a temp folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tastemaker.errors import UsageError
from tastemaker.taste.cache import FeatureCache
from tastemaker.taste.embed_clip import ClipImageEmbedder, image_embedder
from tastemaker.taste.embed_image import DIM, ImageEmbedder

TOWER = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "image_size": 30,
    "patch_size": 6,
}


@pytest.fixture(scope="module")
def clip_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    try:
        import torch
        import transformers
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install the 'diffusion' extra (make test does)")
        pytest.skip("needs the 'diffusion' extra")
    root = tmp_path_factory.mktemp("clip")
    torch.manual_seed(0)
    text = {**{k: v for k, v in TOWER.items() if k not in ("image_size", "patch_size")}}
    full = transformers.CLIPModel(
        transformers.CLIPConfig(
            text_config=text | {"vocab_size": 99, "bos_token_id": 0, "eos_token_id": 1},
            vision_config=TOWER,
            projection_dim=16,
        )
    )
    full.save_pretrained(root / "full")
    tower = transformers.CLIPVisionModelWithProjection(
        transformers.CLIPVisionConfig(**TOWER, projection_dim=12)
    )
    tower.save_pretrained(root / "tower")
    return {"full": root / "full", "tower": root / "tower"}


def _images(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(4)
    return [rng.integers(0, 256, (40 + 8 * k, 48, 3), dtype=np.uint8) for k in range(n)]


@pytest.mark.parametrize(("kind", "dim"), [("full", 16), ("tower", 12)])
def test_clip_embeddings_are_unit_length_deterministic_and_cached(
    clip_dirs: dict[str, Path], kind: str, dim: int, tmp_path: Path
) -> None:
    cache = FeatureCache(tmp_path / "features")
    embedder = ClipImageEmbedder(clip_dirs[kind], cache)
    images = _images(3)
    vectors = embedder.embed(["a", "b", "c"], images)
    assert vectors.shape == (3, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])  # different images, different vectors
    fresh = ClipImageEmbedder(clip_dirs[kind])  # no cache: computed again, same numbers
    np.testing.assert_allclose(fresh.embed_one("a", images[0]), vectors[0], atol=1e-6)
    # A cache hit is read back, not recomputed: a planted vector comes back as is.
    planted = np.full(dim, 0.5)
    cache.put(embedder.name, "d", planted)
    np.testing.assert_array_equal(embedder.embed_one("d", images[0]), planted)
    assert embedder.name.startswith("clip-") and embedder.name != ImageEmbedder.name


def test_the_setting_chooses_clip_and_its_absence_the_aesthetics_features(
    clip_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TASTEMAKER_CLIP_WEIGHTS", raising=False)
    fallback = image_embedder()
    assert isinstance(fallback, ImageEmbedder)
    assert fallback.embed_one("x", _images(1)[0]).shape == (DIM,)
    monkeypatch.setenv("TASTEMAKER_CLIP_WEIGHTS", str(clip_dirs["full"]))
    assert isinstance(image_embedder(), ClipImageEmbedder)


def test_other_weights_cache_under_another_name(clip_dirs: dict[str, Path]) -> None:
    assert ClipImageEmbedder(clip_dirs["full"]).name != ClipImageEmbedder(clip_dirs["tower"]).name


def test_bad_clip_folders_get_a_clear_error(clip_dirs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no config\.json"):
        ClipImageEmbedder(tmp_path)
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UsageError, match="'bert' model, not a CLIP one"):
        ClipImageEmbedder(tmp_path / "bert")
    broken = tmp_path / "broken"
    shutil.copytree(clip_dirs["full"], broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:500])
    with pytest.raises(UsageError, match=r"cannot load CLIP weights .*corrupt or incomplete"):
        ClipImageEmbedder(broken).embed_one("a", _images(1)[0])
