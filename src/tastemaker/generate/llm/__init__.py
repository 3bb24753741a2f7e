"""The llm engine: text works from any OpenAI-compatible chat-completions endpoint."""

from tastemaker.generate.llm.engine import LLMEngine

__all__ = ["LLMEngine"]
