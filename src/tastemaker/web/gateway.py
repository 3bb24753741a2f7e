"""``/ipfs/<cid>``: a read-only IPFS gateway for the content this site holds (works'
media and minted tokens' metadata), so the ``ipfs://`` URIs on chain resolve here."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tastemaker.errors import MediaError
from tastemaker.store import ipfs
from tastemaker.web.deps import Ctx
from tastemaker.web.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["ipfs"], responses=PROBLEM_RESPONSES)
# Content named by its hash never changes: cache it for good, as IPFS gateways do.
IMMUTABLE = "public, max-age=29030400, immutable"


@router.head("/ipfs/{cid}", include_in_schema=False)
@router.get(
    "/ipfs/{cid}",
    summary="Content held here, by IPFS CID (raw, sha2-256): media and token metadata",
    response_class=Response,
)
def content(cid: str, request: Request, ctx: Ctx) -> Response:
    try:
        held = ipfs.find(ctx.rounds.media, cid)
    except MediaError as exc:
        raise Problem(500, "media_corrupt", str(exc)) from None
    if held is None:
        # Not found either way, as a gateway answers; the detail says which.
        if ipfs.canonical_cid(cid) is None:
            raise Problem(404, "bad_cid", f"{cid!r} is no raw sha2-256 CIDv1: nothing held")
        raise Problem(404, "not_held", f"this site holds no content with CID {cid}")
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": f'"{held.cid}"',
        "X-Ipfs-Path": f"/ipfs/{held.cid}",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else held.data
    headers["Content-Length"] = str(len(held.data))
    return Response(body, media_type=held.media_type, headers=headers)
