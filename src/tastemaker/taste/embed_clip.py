"""CLIP image embeddings for the taste model, from local weights (TASTEMAKER_CLIP_WEIGHTS).

The LAION aesthetic predictor, PickScore and HPS v2 all put a simple model on a CLIP
embedding; a deployment with CLIP weights on disk gets that embedding here, unit
length. Without the setting the taste model keeps the CPU aesthetics features
(``embed_image``). The directory is a transformers ``save_pretrained`` folder of a
``CLIPModel`` (e.g. openai/clip-vit-large-patch14) or of a CLIP vision tower
(``CLIPVisionModelWithProjection`` / ``CLIPVisionModel``). Nothing is downloaded.

Vectors are cached under a name that carries the weights' hash, so other weights
never read them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tastemaker.errors import MediaError, UsageError
from tastemaker.settings import get_settings
from tastemaker.taste.cache import FeatureCache
from tastemaker.taste.embed_image import ImageEmbedder
from tastemaker.weights import weights_hash

SETTING = "TASTEMAKER_CLIP_WEIGHTS"
EXTRA_HINT = "CLIP image embeddings need the 'diffusion' extra: pip install 'tastemaker[diffusion]'"
BATCH = 32


def _config(directory: Path) -> dict[str, Any]:
    path = directory / "config.json"
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{SETTING}: {directory} has no config.json (not a model)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{SETTING}: {path} is unreadable or not JSON: {exc}") from exc
    kind = value.get("model_type") if isinstance(value, dict) else None
    if kind not in ("clip", "clip_vision_model"):
        raise UsageError(f"{SETTING}: {directory} holds a {kind!r} model, not a CLIP one")
    return value


class ClipImageEmbedder:
    """Unit-length CLIP image embeddings, cached by content id."""

    def __init__(self, directory: Path, cache: FeatureCache | None = None) -> None:
        self.directory = directory.expanduser()
        self.config = _config(self.directory)
        self.cache = cache
        self.name = f"clip-{weights_hash(self.directory)[:16]}"
        arch = self.config.get("architectures") or []
        self.kind = (
            "full"
            if self.config["model_type"] == "clip"
            else "projected"
            if "CLIPVisionModelWithProjection" in arch
            else "pooled"
        )
        self.dim = int(
            self.config.get("projection_dim", 512)
            if self.kind != "pooled"
            else self.config.get("hidden_size", 768)
        )

    @cached_property
    def _model(self) -> tuple[Any, Any, Any]:
        from tastemaker.generate.diffusion.pipeline import import_torch

        torch = import_torch()
        try:
            import transformers
        except ImportError as exc:
            raise UsageError(EXTRA_HINT) from exc
        cls = {
            "full": transformers.CLIPModel,
            "projected": transformers.CLIPVisionModelWithProjection,
            "pooled": transformers.CLIPVisionModel,
        }[self.kind]
        processor_cls = getattr(transformers, "CLIPImageProcessorPil", None) or (
            transformers.CLIPImageProcessor
        )
        try:
            model, info = cls.from_pretrained(
                str(self.directory), local_files_only=True, output_loading_info=True
            )
            if info.get("missing_keys"):
                raise ValueError(f"missing weights {sorted(info['missing_keys'])[:3]}")
            if (self.directory / "preprocessor_config.json").is_file():
                processor = processor_cls.from_pretrained(str(self.directory))
            else:  # OpenAI CLIP's preprocessing (the class defaults) at the model's size
                vision = self.config.get("vision_config", self.config)
                side = int(vision.get("image_size", 224))
                processor = processor_cls(
                    size={"shortest_edge": side}, crop_size={"height": side, "width": side}
                )
        except Exception as exc:  # transformers raises many kinds for a bad folder
            first = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
            raise UsageError(
                f"{SETTING}: cannot load CLIP weights from {self.directory} (corrupt or "
                f"incomplete?): {type(exc).__name__}: {first}"
            ) from exc
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return torch, model.eval().to(device), processor

    def _compute(self, images: Sequence[np.ndarray]) -> np.ndarray:
        torch, model, processor = self._model
        for image in images:
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise MediaError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
        pixels = processor(images=list(images), return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            pixels = pixels.to(model.device)
            if self.kind == "full":
                out = model.get_image_features(pixel_values=pixels)
                out = out if isinstance(out, torch.Tensor) else out.pooler_output
            elif self.kind == "projected":
                out = model(pixel_values=pixels).image_embeds
            else:
                out = model(pixel_values=pixels).pooler_output
        vectors = out.float().cpu().numpy().astype(np.float64)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def embed_one(self, content_id: str, image: np.ndarray) -> np.ndarray:
        return self.embed([content_id], [image])[0]

    def embed(self, content_ids: Sequence[str], images: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(images), self.dim))
        todo = []
        for k, cid in enumerate(content_ids):
            hit = self.cache.get(self.name, cid) if self.cache is not None else None
            if hit is not None and hit.shape == (self.dim,):
                out[k] = hit
            else:
                todo.append(k)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            vectors = self._compute([images[k] for k in chunk])
            for k, vec in zip(chunk, vectors, strict=True):
                out[k] = vec
                if self.cache is not None:
                    self.cache.put(self.name, content_ids[k], vec)
        return out


def image_embedder(cache: FeatureCache | None = None) -> ImageEmbedder | ClipImageEmbedder:
    """CLIP when TASTEMAKER_CLIP_WEIGHTS names a folder, else the aesthetics features."""
    directory = get_settings().clip_weights
    if directory is None:
        return ImageEmbedder(cache)
    return ClipImageEmbedder(directory, cache)
