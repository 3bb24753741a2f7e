"""Works are media: bytes plus a media type, content-addressed by the bytes.

This module is the one table of media types Tastemaker knows (the file extension each
is stored under, whether it is text) and the checks every work passes before it is
stored: a known type, and for text strict UTF-8 within a size limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from tastemaker.errors import MediaError

IMAGE_PNG = "image/png"
TEXT_PLAIN = "text/plain"
TEXT_MARKDOWN = "text/markdown"

# media type -> file extension in the media store
EXTENSIONS: dict[str, str] = {IMAGE_PNG: "png", TEXT_PLAIN: "txt", TEXT_MARKDOWN: "md"}
TEXT_TYPES = frozenset({TEXT_PLAIN, TEXT_MARKDOWN})
MAX_TEXT_BYTES = 16 * 1024  # a joke, a poem, a short story: not a novel


def check_media_type(media_type: str) -> str:
    if media_type not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise MediaError(f"unknown media type {media_type!r}; known types: {known}")
    return media_type


def extension(media_type: str) -> str:
    """The store's file extension for ``media_type`` (``png``, ``txt``, ``md``)."""
    return EXTENSIONS[check_media_type(media_type)]


def is_text(media_type: str) -> bool:
    return media_type in TEXT_TYPES


def decode_text(data: bytes, what: str = "text") -> str:
    """Strict UTF-8 text within ``MAX_TEXT_BYTES``; MediaError naming ``what`` otherwise."""
    if len(data) > MAX_TEXT_BYTES:
        raise MediaError(
            f"{what} is {len(data):,} bytes; a text work holds at most {MAX_TEXT_BYTES:,}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MediaError(f"{what} is not UTF-8 (byte {exc.start})") from None


@dataclass(frozen=True)
class Media:
    """A work's content: ``data`` (the exact bytes that are hashed) and its type."""

    data: bytes
    media_type: str

    def __post_init__(self) -> None:
        check_media_type(self.media_type)
        if is_text(self.media_type):
            text = decode_text(self.data)
            if not text.strip():
                raise MediaError("a text work cannot be empty")

    @classmethod
    def from_text(cls, text: str, media_type: str = TEXT_PLAIN) -> Media:
        return cls(text.encode("utf-8"), media_type)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]

    @property
    def is_text(self) -> bool:
        return is_text(self.media_type)

    def text(self) -> str:
        if not self.is_text:
            raise MediaError(f"a {self.media_type} work has no text")
        return self.data.decode("utf-8")
