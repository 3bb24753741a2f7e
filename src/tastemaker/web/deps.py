"""FastAPI dependencies shared by the routes: the context, a unit of work, the member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tastemaker.core.ballots import BallotError, checksum, work_hash
from tastemaker.web.auth import Sessions
from tastemaker.web.context import WebContext
from tastemaker.web.intake import SignedIn, not_signed_in
from tastemaker.web.problems import Problem

MAX_PAGE = 100


# Dependencies that do no I/O are ``async def``: FastAPI runs sync ones on a worker
# thread each, and the thread hops cost more than the work.


async def web_context(request: Request) -> WebContext:
    return request.app.state.web


def unit_of_work(ctx: Annotated[WebContext, Depends(web_context)]) -> Iterator[Session]:
    with ctx.rounds.db.unit_of_work() as session:
        yield session


def optional_member(
    request: Request, ctx: Annotated[WebContext, Depends(web_context)]
) -> str | None:
    # Sync (a worker thread): the session is checked against its row in the database.
    sessions: Sessions = request.app.state.sessions
    return sessions.member(request, ctx.chain_id, ctx.now())


async def signed_in(request: Request, ctx: Annotated[WebContext, Depends(web_context)]) -> SignedIn:
    """The member the session cookie names, checked on the event loop (its signature
    and age); the hot routes leave its server-side row to the group commit's batch."""
    sessions: Sessions = request.app.state.sessions
    named = sessions.cookie(request, ctx.chain_id)
    if named is None:
        raise not_signed_in()
    return SignedIn(*named)


async def required_member(member: Annotated[str | None, Depends(optional_member)]) -> str:
    if member is None:
        raise not_signed_in()
    return member


Ctx = Annotated[WebContext, Depends(web_context)]
Db = Annotated[Session, Depends(unit_of_work)]
Member = Annotated[str, Depends(required_member)]
MaybeMember = Annotated[str | None, Depends(optional_member)]
Cookie = Annotated[SignedIn, Depends(signed_in)]


class PageParams(BaseModel):
    offset: int
    limit: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")] = 50,
    cursor: Annotated[
        str | None,
        # ASCII digits only: str.isdigit() also takes '²' and other digits int() refuses.
        Query(pattern=r"^[0-9]{1,9}$", description="`next_cursor` of the previous page."),
    ] = None,
) -> PageParams:
    return PageParams(offset=0 if cursor is None else int(cursor), limit=limit)


Paging = Annotated[PageParams, Depends(page_params)]


def json_response(body: object) -> Response:
    """A JSON answer serialised by orjson, straight from plain dicts and strings (FastAPI
    would run its generic encoder over the body first)."""
    return Response(orjson.dumps(body), media_type="application/json")


def page(items: list, paging: PageParams, total: int | None = None) -> dict:
    """Cursor = offset of the next page, opaque to clients; None on the last page."""
    more = len(items) == paging.limit and (total is None or paging.offset + paging.limit < total)
    body: dict = {
        "items": items,
        "next_cursor": str(paging.offset + paging.limit) if more else None,
    }
    if total is not None:
        body["total"] = total
    return body


ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
AddressPath = Annotated[str, Path(pattern=ADDRESS_PATTERN, description="An account address.")]
HashPath = Annotated[str, Path(pattern=HASH_PATTERN, description="A 32-byte hex content hash.")]


def parse_address(value: str) -> str:
    """An address in any letter case, as its EIP-55 checksum form. Lenient on purpose:
    these are look-ups and sign-in requests, and the schema can promise hex but not a
    checksum (a wrong-case address names the same account)."""
    try:
        return checksum(value.lower() if value.startswith(("0x", "0X")) else value)
    except BallotError:
        raise Problem(422, "bad_address", f"not an Ethereum address: {value!r}") from None


def parse_hash(value: str) -> bytes:
    try:
        return work_hash(value)
    except BallotError:
        raise Problem(422, "bad_hash", f"not a 32-byte hex hash: {value!r}") from None
