"""A tiny, randomly initialised Stable Diffusion pipeline, built offline.

Its pictures are noise, but every part is the real thing (UNet2DConditionModel,
AutoencoderKL, CLIPTextModel, CLIPTokenizer, DDIM scheduler), saved in the layout
of a hub snapshot, so tests and benchmarks run the engine's whole code path on any
machine in well under a second per image. The shapes follow diffusers' own test
``get_dummy_components``; the tokenizer is byte-level BPE with no merges (one token
per byte), so it needs no download.

    python -m tastemaker.generate.diffusion.tiny DIR
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tastemaker.generate.diffusion.pipeline import import_torch

VOCAB = 1000


def _tokenizer(folder: Path):  # type: ignore[no-untyped-def]
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    chars = sorted(ByteLevel.alphabet())
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    )


def build_tiny_pipeline(out: Path, seed: int = 0) -> Path:
    """Save a tiny random text-to-image pipeline to ``out`` and return ``out``."""
    torch = import_torch()
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline
    from diffusers import UNet2DConditionModel as UNet
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        norm_num_groups=2,
    )  # fmt: skip
    vae = AutoencoderKL(
        block_out_channels=[4, 8], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
        norm_num_groups=2,
    )  # fmt: skip
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
            intermediate_size=64, num_attention_heads=4, num_hidden_layers=2, vocab_size=VOCAB,
        )
    )  # fmt: skip
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, set_alpha_to_one=False, steps_offset=1,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = _tokenizer(Path(scratch))
        pipe = StableDiffusionPipeline(
            unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
            scheduler=scheduler, safety_checker=None, feature_extractor=None,
            requires_safety_checker=False,
        )  # fmt: skip
        pipe.save_pretrained(str(out), safe_serialization=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tastemaker.generate.diffusion.tiny DIR")
    print(build_tiny_pipeline(Path(sys.argv[1])))
