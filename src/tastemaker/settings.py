"""Deployment settings, read from the environment (prefix ``TASTEMAKER_``)."""

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where Tastemaker keeps its state. Every field can be set as ``TASTEMAKER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_", extra="ignore")

    home: Path = Field(default=Path(".tastemaker"), description="Root of all local state.")
    engine: str = Field(default="cppn", description="Default generative engine.")
    generate_backend: str = Field(
        default="local", description="Where works are made: local (this machine) or ray."
    )
    ray_address: str | None = Field(
        default=None, description="The Ray cluster (host:port); unset: RAY_ADDRESS or a local Ray."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite at <home>/tastemaker.db."
    )
    curator: str = Field(default="random", description="Curation policy: taste or random.")
    # The diffusion engine (the 'diffusion' extra): local weights only, never downloaded.
    diffusion_weights: Path | None = Field(
        default=None, description="A diffusers pipeline directory (save_pretrained layout)."
    )
    diffusion_device: str = Field(
        default="auto", description="torch device: auto (cuda when present, else cpu), cpu, cuda:N."
    )
    diffusion_dtype: str = Field(
        default="auto", description="auto (float16 on cuda, float32 on cpu), float16, bfloat16."
    )
    diffusion_threads: int | None = Field(
        default=None, ge=1, description="CPU threads for torch (default: torch's choice)."
    )
    diffusion_steps: tuple[int, int] = Field(
        default=(20, 30), description="Denoising steps new genomes draw from: JSON [lo, hi]."
    )
    diffusion_guidance: tuple[float, float] = Field(
        default=(5.0, 9.0), description="Guidance scales new genomes draw from: JSON [lo, hi]."
    )
    # Image embeddings for the taste model from local CLIP weights (else image aesthetics).
    clip_weights: Path | None = Field(
        default=None, description="A transformers CLIP (or CLIP vision) model directory."
    )

    @cached_property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'tastemaker.db'}"


def get_settings() -> Settings:
    return Settings()
