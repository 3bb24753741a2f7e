"""Where the llm engine sends its prompts (``TASTEMAKER_LLM_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LLMSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_LLM_", extra="ignore")

    url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 "
        "(llama.cpp server, vLLM, Ollama, a hosted API); /chat/completions is appended.",
    )
    model: str = Field(default="local", description="Model name sent with each request.")
    api_key: str | None = Field(default=None, description="Bearer token, if the API needs one.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for one answer.")
    max_tokens: int = Field(default=400, ge=1, le=8192, description="Longest answer, tokens.")
