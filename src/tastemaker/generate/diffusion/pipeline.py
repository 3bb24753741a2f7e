"""Load a local diffusers text-to-image pipeline and turn one prompt into pixels.

Nothing is downloaded: the hub is switched off and every load is ``local_files_only``.
Any diffusers text-to-image pipeline directory works (``save_pretrained`` layout, as
on the hub: Stable Diffusion 1.5/2.1/XL, SD-Turbo, Flux, ...); ``AutoPipelineForText2Image``
picks the class from its ``model_index.json``.

On a GPU the pipeline runs in float16, on the CPU in float32. The initial noise always
comes from a CPU ``torch.Generator`` seeded with the genome's seed, so it is the same
on every device; the denoising arithmetic is not (see docs/decisions/0062).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tastemaker.errors import UsageError

EXTRA_HINT = "the diffusion engine needs the 'diffusion' extra: pip install 'tastemaker[diffusion]'"
DTYPES = ("float16", "bfloat16", "float32")


def _quiet_offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["DIFFUSERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def import_torch() -> Any:
    _quiet_offline()
    try:
        import torch
    except ImportError as exc:
        raise UsageError(EXTRA_HINT) from exc
    return torch


def choose_device(setting: str) -> str:
    """``auto``: cuda when torch sees a GPU, else cpu; otherwise the setting as given."""
    torch = import_torch()
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"TASTEMAKER_DIFFUSION_DEVICE is {setting!r} but torch sees no GPU")
    return setting


def choose_dtype(setting: str, device: str) -> str:
    if setting == "auto":
        return "float16" if device.startswith("cuda") else "float32"
    if setting not in DTYPES:
        raise UsageError(
            f"TASTEMAKER_DIFFUSION_DTYPE must be auto or one of {', '.join(DTYPES)}, "
            f"not {setting!r}"
        )
    return setting


def check_layout(weights: Path) -> dict[str, Any]:
    """The parsed ``model_index.json``; UsageError if the directory is not a pipeline."""
    if not weights.is_dir():
        raise UsageError(f"diffusion weights {weights} does not exist or is not a directory")
    index = weights / "model_index.json"
    try:
        value = json.loads(index.read_text())
    except FileNotFoundError:
        raise UsageError(
            f"{weights} is not a diffusers pipeline directory (no model_index.json)"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{index} is unreadable or not JSON: {exc}") from exc
    if not isinstance(value, dict) or not isinstance(value.get("_class_name"), str):
        raise UsageError(f"{index} does not name a pipeline class (_class_name)")
    for component, spec in value.items():
        if component.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        if not (weights / component).is_dir():
            raise UsageError(
                f"diffusion weights in {weights} are incomplete: model_index.json names "
                f"{component!r} but there is no {component}/ folder"
            )
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


@dataclass
class Pipeline:
    """A loaded pipeline on its device, rendering square images."""

    pipe: Any
    device: str
    dtype: str
    multiple: int  # height and width must be multiples of this

    def render(self, prompt: str, seed: int, steps: int, guidance: float, size: int) -> np.ndarray:
        """A ``(size, size, 3)`` uint8 RGB image.

        The model draws at the next multiple of ``multiple`` pixels at or above
        ``size`` (latents are 1/8 of the image; Flux packs 2x2 of them) and is resized
        down to ``size`` when those differ.
        """
        torch = import_torch()
        side = -(-size // self.multiple) * self.multiple
        generator = torch.Generator("cpu").manual_seed(seed)
        with torch.inference_mode():
            out = self.pipe(
                prompt=prompt,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=generator,
                height=side,
                width=side,
                output_type="np",
            )
        image = np.asarray(out.images[0], dtype=np.float32)
        # As diffusers' own numpy_to_pil, with NaN (an fp16 overflow) as black.
        pixels = (np.nan_to_num(np.clip(image, 0.0, 1.0), nan=0.0) * 255).round().astype(np.uint8)
        if side != size:
            pixels = np.asarray(
                Image.fromarray(pixels).resize((size, size), Image.Resampling.LANCZOS)
            )
        return pixels


def load_pipeline(weights: Path, device: str, dtype: str, threads: int | None) -> Pipeline:
    """The text-to-image pipeline in ``weights``; UsageError with the cause if it fails."""
    check_layout(weights)
    torch = import_torch()
    try:
        from diffusers import AutoPipelineForText2Image
        from diffusers.utils import logging as diffusers_logging
    except ImportError as exc:
        raise UsageError(EXTRA_HINT) from exc
    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(
            str(weights), local_files_only=True, dtype=getattr(torch, dtype)
        )
        pipe = pipe.to(device)
    except Exception as exc:  # diffusers and transformers raise many kinds; all mean the same
        raise UsageError(
            f"cannot load diffusion weights from {weights} (corrupt or incomplete?): "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    if device.startswith("cuda"):
        # Same genome, same GPU, same software: same bytes (cuDNN may otherwise pick
        # different convolution algorithms from run to run).
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    return Pipeline(pipe, device, dtype, multiple=2 * scale)
