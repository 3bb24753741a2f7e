"""How pages show a work of each media type: an image by URL, a text as text.

Pages call ``Display(session, media)(content_hash)`` from their templates (the
``show_work`` macro in templates/_work.html); Jinja escapes the text, so a work's
text can never become markup.
"""

from __future__ import annotations

from typing import Any

from tastemaker.core.media import extension, is_text
from tastemaker.errors import MediaError
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import Work
from tastemaker.web.deps import parse_hash
from tastemaker.web.queries import hex32

EXCERPT = 90  # characters a thumbnail-sized text shows


class Display:
    def __init__(self, session: Any, media: MediaStore) -> None:
        self.session, self.media = session, media
        self._seen: dict[str, dict[str, Any]] = {}

    def __call__(self, content_hash: str) -> dict[str, Any]:
        """``{"media_type", "image_url", "text", "excerpt"}`` (text fields None for images)."""
        if content_hash not in self._seen:
            self._seen[content_hash] = self._look_up(content_hash)
        return self._seen[content_hash]

    def _look_up(self, content_hash: str) -> dict[str, Any]:
        work = self.session.get(Work, parse_hash(content_hash))
        base = f"/api/works/{hex32(work.content_hash) if work else content_hash}"
        info: dict[str, Any] = {
            "media_type": work.media_type if work else "image/png",
            "image_url": f"{base}/image",
            "media_url": f"{base}/media",
            "text": None,
            "excerpt": None,
        }
        if work is not None and is_text(work.media_type):
            try:
                text = self.media.get_bytes(work.cid, extension(work.media_type)).decode("utf-8")
            except (MediaError, UnicodeDecodeError):
                text = "(this text is not in the media store)"
            flat = " ".join(text.split())
            info["text"] = text
            info["excerpt"] = flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"
        return info
