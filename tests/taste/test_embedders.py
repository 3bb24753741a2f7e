from __future__ import annotations

import numpy as np
import pytest

from tastemaker.errors import MediaError
from tastemaker.taste.cache import FeatureCache
from tastemaker.taste.embed_image import DIM, FEATURE_NAMES, ImageEmbedder, image_features

F = {name: k for k, name in enumerate(FEATURE_NAMES)}


def _gradient(size: int = 64) -> np.ndarray:
    x = np.linspace(0, 255, size)
    img = np.zeros((size, size, 3), np.uint8)
    img[..., 0] = x[None, :]
    img[..., 2] = 255 - x[None, :]
    return img


def test_features_are_finite_fixed_length_and_size_independent() -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    f = image_features(noise)
    assert f.shape == (DIM,) == (len(FEATURE_NAMES),)
    assert np.isfinite(f).all()
    small, big = (
        image_features(_gradient(64)),
        image_features(np.kron(_gradient(64), np.ones((2, 2, 1), np.uint8))),
    )
    np.testing.assert_allclose(small, big, atol=0.05)


def test_features_measure_what_they_name() -> None:
    rng = np.random.default_rng(1)
    flat = np.full((64, 64, 3), 120, np.uint8)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    grad = _gradient()
    f_flat, f_noise, f_grad = image_features(flat), image_features(noise), image_features(grad)
    # Noise: many edges, high frequencies, incompressible. Flat: none of that.
    assert f_noise[F["edge_mean"]] > f_grad[F["edge_mean"]] > f_flat[F["edge_mean"]]
    assert f_noise[F["compress_ratio"]] > 5 * f_grad[F["compress_ratio"]]
    assert f_noise[F["freq_band_5"]] > f_grad[F["freq_band_5"]]
    # A left-right gradient is symmetric top-bottom, not left-right.
    assert f_grad[F["symmetry_tb"]] == pytest.approx(1.0)
    assert f_grad[F["symmetry_lr"]] < 0.8
    assert f_flat[F["saturation_mean"]] == 0.0
    assert f_grad[F["colourfulness"]] > f_flat[F["colourfulness"]]
    # Gradient edges are all vertical, so one orientation bin holds them.
    orient = f_grad[[F[f"edge_orient_{k}"] for k in range(4)]]
    assert orient.max() > 0.9


def test_bad_image_is_a_media_error() -> None:
    with pytest.raises(MediaError):
        image_features(np.zeros((8, 8), np.uint8))


def test_image_embedder_caches_by_content_id(tmp_path) -> None:
    cache = FeatureCache(tmp_path / "features")
    embedder = ImageEmbedder(cache)
    first = embedder.embed(["cid-a"], [_gradient()])
    assert (tmp_path / "features" / "aesthetics-v2" / "cid-a.npy").exists()
    # The cache answers by id, without looking at the pixels again.
    again = embedder.embed(["cid-a"], [np.zeros((64, 64, 3), np.uint8)])
    np.testing.assert_allclose(first, again, rtol=1e-6)
    # Unsafe ids are hashed into a safe file name.
    cache.put("x", "../../evil id", np.ones(3))
    assert cache.get("x", "../../evil id").tolist() == [1.0, 1.0, 1.0]
    assert not (tmp_path / "evil id.npy").exists()


@pytest.mark.slow
def test_text_embedder_is_offline_minilm(tmp_path, monkeypatch) -> None:
    pytest.importorskip("tokenizers")
    from tastemaker.taste.embed_text import DIM as TEXT_DIM
    from tastemaker.taste.embed_text import TextEmbedder

    # No network: any hub access would fail loudly.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = TextEmbedder(FeatureCache(tmp_path))
    texts = [
        "A cat sat on the mat.",
        "A kitten rested on the rug.",
        "Quarterly tax filing deadline.",
    ]
    x = embedder.embed(texts)
    assert x.shape == (3, TEXT_DIM)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert x[0] @ x[1] > x[0] @ x[2] + 0.2
    np.testing.assert_allclose(embedder.embed(texts[:1]), x[:1], atol=1e-6)
