"""Minted works' content (metadata JSON and media) and where it is pinned.

The CIDs come from the chain (each token's ``tokenURI``) and the bytes from the media
store, so what gets pinned is exactly what marketplaces will ask IPFS for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from tastemaker.errors import MediaError
from tastemaker.rounds.service import RoundContext
from tastemaker.store import ipfs
from tastemaker.store.pinning import Pinner, PinStatus
from tastemaker.store.tables import Round


@dataclass(frozen=True)
class Content:
    token_id: int
    round: int
    kind: str  # "metadata" or "media"
    cid: str
    data: bytes


def _cid(uri: str) -> str:
    return uri.removeprefix("ipfs://").split("/", 1)[0]


def minted_content(ctx: RoundContext) -> list[Content]:
    """Every minted token's metadata and media, in round order."""
    with ctx.db.unit_of_work() as session:
        minted = session.execute(
            select(Round.number, Round.token_id)
            .where(Round.token_id.is_not(None))
            .order_by(Round.number)
        ).all()
    found: list[Content] = []
    for number, token_id in minted:
        metadata_cid = _cid(ctx.chain.token_uri(token_id))
        metadata = ipfs.find(ctx.media, metadata_cid)
        if metadata is None:
            raise MediaError(f"token {token_id}'s metadata {metadata_cid} is not in the store")
        found.append(Content(token_id, number, "metadata", metadata_cid, metadata.data))
        try:
            media_cid = _cid(json.loads(metadata.data)["image"])
        except (ValueError, KeyError, TypeError):
            raise MediaError(f"token {token_id}'s metadata names no ipfs:// image") from None
        media = ipfs.find(ctx.media, media_cid)
        if media is None:
            raise MediaError(f"token {token_id}'s media {media_cid} is not in the store")
        found.append(Content(token_id, number, "media", media_cid, media.data))
    return found


def _name(item: Content) -> str:
    return f"tastemaker-round-{item.round}-{item.kind}"


def pin_all(content: list[Content], pinner: Pinner) -> list[PinStatus]:
    return [pinner.pin(item.cid, item.data, _name(item)) for item in content]


def statuses(content: list[Content], pinner: Pinner) -> list[PinStatus]:
    return [pinner.status(item.cid) for item in content]
