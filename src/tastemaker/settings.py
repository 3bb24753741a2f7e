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
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite at <home>/tastemaker.db."
    )
    curator: str = Field(default="random", description="Curation policy: taste or random.")

    @cached_property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'tastemaker.db'}"


def get_settings() -> Settings:
    return Settings()
