"""Token metadata for a minted work, in the shape marketplaces read (ERC-721
metadata JSON with OpenSea-style ``attributes``), and its content-addressed URI.

The JSON is serialised canonically, so the same work always gets the same URI
(``ipfs://<CIDv1>``); the caller stores the bytes beside the media so the web app
or an IPFS pin can serve them.

Per media type, following OpenSea's metadata conventions: an image work's ``image``
is the work itself; a text work keeps its text in ``description`` (which marketplaces
show, markdown included) and in ``text``, and its ``image`` is a rendered card
(chain/card.py) so listings show something.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tastemaker.core.media import IMAGE_PNG
from tastemaker.store.media import cid_for_bytes

MAX_URI_LENGTH = 432  # Works.vy keeps token URIs as String[432]


@dataclass(frozen=True)
class WorkMetadata:
    name: str
    description: str
    image: str  # URI of the media, e.g. ipfs://<cid>
    round: int
    engine: str
    genome_hash: str
    content_hash: str
    votes: int
    media_type: str = IMAGE_PNG
    text: str | None = None  # a text work's text (``image`` is then its card)
    # More attributes after the standard ones: the round commitment (decision 0051).
    extra: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        description = self.description
        if self.text is not None:
            description, extra = self.text, {"text": self.text, "media_type": self.media_type}
        return extra | {
            "name": self.name,
            "description": description,
            "image": self.image,
            "attributes": [
                {"trait_type": "media type", "value": self.media_type},
                {"trait_type": "round", "display_type": "number", "value": self.round},
                {"trait_type": "engine", "value": self.engine},
                {"trait_type": "genome hash", "value": self.genome_hash},
                {"trait_type": "content hash", "value": self.content_hash},
                {"trait_type": "votes", "display_type": "number", "value": self.votes},
                *self.extra,
            ],
        }

    def to_bytes(self) -> bytes:
        """Canonical JSON bytes (sorted keys, no spaces)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    def uri(self) -> str:
        """``ipfs://`` URI of the canonical JSON: what ``Works.mint`` records."""
        uri = f"ipfs://{cid_for_bytes(self.to_bytes())}"
        assert len(uri) <= MAX_URI_LENGTH
        return uri
