"""One chat completion from an OpenAI-compatible endpoint, with one-line errors for an
endpoint that is down, slow, refuses, or answers something that is not a completion."""

from __future__ import annotations

from typing import Any

import requests

from tastemaker.errors import UsageError
from tastemaker.generate.llm.settings import LLMSettings

SYSTEM = "You write short original texts. Answer with the text only: no title, no preamble."


class LLMError(UsageError):
    """The endpoint could not give a completion."""


def complete(settings: LLMSettings, prompt: str, temperature: float, seed: int) -> str:
    """The assistant's answer to ``prompt``."""
    if not settings.url:
        raise LLMError("the llm engine needs TASTEMAKER_LLM_URL (an OpenAI-compatible API)")
    url = settings.url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    payload = {
        "model": settings.model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
        "temperature": temperature,
        "seed": seed,
        "max_tokens": settings.max_tokens,
    }
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=settings.timeout)
    except requests.Timeout:
        raise LLMError(
            f"the llm endpoint {url} did not answer within {settings.timeout:g} s"
        ) from None
    except requests.RequestException as exc:
        reason = type(exc).__name__ if not str(exc) else str(exc).split(": ")[-1][:160]
        raise LLMError(f"the llm endpoint {url} is unreachable: {reason}") from None
    if response.status_code != 200:
        raise LLMError(
            f"the llm endpoint {url} answered HTTP {response.status_code}: "
            f"{_snippet(response.text)}"
        )
    return _content(url, response)


def _content(url: str, response: requests.Response) -> str:
    try:
        body: Any = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError(
            f"the llm endpoint {url} did not answer with a chat completion: "
            f"{_snippet(response.text)}"
        ) from None
    if not isinstance(content, str):
        raise LLMError(f"the llm endpoint {url} answered a completion without text")
    return content


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat[:120] + ("…" if len(flat) > 120 else ""))
