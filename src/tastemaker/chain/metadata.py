"""Token metadata for a minted work, in the shape marketplaces read (ERC-721
metadata JSON with OpenSea-style ``attributes``), and its content-addressed URI.

The JSON is serialised canonically, so the same work always gets the same URI
(``ipfs://<CIDv1>``); the caller stores the bytes beside the media so the web app
or an IPFS pin can serve them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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
    # More attributes after the standard ones: the round commitment (decision 0051).
    extra: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "image": self.image,
            "attributes": [
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
