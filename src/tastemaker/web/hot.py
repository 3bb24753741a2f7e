"""The voter's two hot routes as a plain ASGI layer in front of FastAPI.

``POST /api/rounds/{n}/next`` and ``POST /api/votes`` are most of the requests a
round gets. FastAPI's per-request machinery (route matching one by one, dependency
solving, a ``Request`` per call, exception-handling wrappers) cost more than the
work itself (decision 0072). ``HotRoutes`` answers the ordinary case of those two
routes directly: a signed-in member (cookie checked as the ``Cookie`` dependency
does) and, for a vote, a body that the ``SignedVote`` model accepts as is. Anything
else (no or bad cookie, a body the fast check does not take, another method) goes
on to FastAPI unchanged, with the body replayed, so every refusal that does not
depend on the database is FastAPI's own answer. The routes' work (``next_answer``,
``vote_answer``) is shared with the FastAPI routes, and refusals are rendered by
``problems.problem_of``, so both paths give the same answers. The FastAPI routes
stay: they describe the API in OpenAPI and answer what the fast path passes on.

It runs before FastAPI's own stack (``web/app.TastemakerApp.__call__``): each layer
of that stack (FastAPI's telemetry and body-limit wrappers, Starlette's error
middleware, ``BodyLimit``, ``SameOrigin``) cost a few percent of these routes' CPU.
So it takes only requests that those two middlewares would pass unchanged (a
declared body length within the limit, no chunked body, ``cross_site_refusal``
finds nothing); any other request goes through the whole stack, which refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
from starlette._utils import get_route_path
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tastemaker.rounds.showing import Shown, ShowRefused, ShowRequest
from tastemaker.rounds.votes import Ballot, VoteReceipt
from tastemaker.web.auth import SESSION_COOKIE, Sessions
from tastemaker.web.context import WebContext
from tastemaker.web.intake import NextJob, SignedIn, VoteJob
from tastemaker.web.problems import MEDIA_TYPE, Problem, problem_body, problem_of
from tastemaker.web.security import cross_site_refusal, trusted_origins

SAFE_INT = 2**53 - 1
ROUND_LIMIT = 2**31
_NEXT = re.compile(r"/api/rounds/([1-9][0-9]{0,9})/next")
# The patterns of web/api/votes.py's models (pydantic's are anchored: fullmatch here).
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_AMOUNT = re.compile(r"[1-9][0-9]{0,76}")
_UINT = re.compile(r"[0-9]{1,77}")
_SIGNATURE = re.compile(r"(0x)?[0-9a-fA-F]{130}")
_JSON_HEADERS = [(b"content-type", b"application/json")]


# --- the routes' work, shared with web/api/rounds.py and web/api/votes.py ----------


async def next_answer(ctx: WebContext, number: int, who: SignedIn) -> dict[str, Any]:
    """The next work for the member (its impression committed), as the API answers it;
    raises ``Problem`` (or the database's error) otherwise."""
    if not 0 < number < ROUND_LIMIT:
        raise Problem(404, "unknown_round", f"there is no round {number}")
    vp = (await ctx.allowance_async(who.address)).vp
    job = NextJob(who, ShowRequest(number, who.address, ctx.now()))
    chosen = await ctx.intake.submit_async(job)
    if isinstance(chosen, ShowRefused):
        status = 404 if chosen.code == "unknown_round" else 409
        raise Problem(status, chosen.code, str(chosen))
    if isinstance(chosen, Exception):
        raise chosen
    assert isinstance(chosen, Shown)
    spent = sum(v.amount for v in chosen.votes.values())
    body: dict[str, Any] = {
        "round": number,
        "seen": chosen.seen,
        "pool_size": chosen.total,
        "voted": len(chosen.votes),
        "vp": str(vp),
        "spent": str(spent),
        "remaining": str(max(vp - spent, 0)),
        "work": None,
        "your_vote": None,
    }
    if chosen.work is not None:
        body["work"] = await ctx.work_json(number, chosen.work)
        previous = chosen.votes.get(chosen.work)
        if previous is not None:
            body["your_vote"] = {
                "direction": previous.direction,
                "amount": str(previous.amount),
                "nonce": str(previous.nonce),
            }
    return body


async def vote_answer(
    ctx: WebContext, who: SignedIn, message: dict[str, Any], signature: str
) -> dict[str, Any]:
    """Store a signed vote (committed before this returns) and its receipt as the API
    answers it; raises the refusal otherwise."""
    # Read the stake before the database work: on SQLite, intake holds the write
    # lock for its batch, and a node round trip must not happen under it.
    grant = await ctx.allowance_async(who.address)
    # Stored (committed, with whatever votes arrived at the same time) before we say
    # yes; the batch also checks the session's row and that the vote is the member's.
    ballot = Ballot(message, signature, ctx.now(), grant)
    receipt = await ctx.intake.submit_async(VoteJob(who, ballot))
    if isinstance(receipt, Exception):
        raise receipt
    assert isinstance(receipt, VoteReceipt)
    return {
        "id": "0x" + receipt.id.hex(),
        "status": receipt.status,
        "spent": str(receipt.spent),
        "allowance": str(receipt.allowance),
        "remaining": str(receipt.remaining),
    }


# --- the fast check of a vote's body --------------------------------------------


def _json_int(value: object, low: int, high: int) -> bool:
    # A JSON integer only (pydantic's BeforeValidator there also takes 3.0: that rare
    # case goes to FastAPI). bool is an int subclass: type() keeps it out.
    return type(value) is int and low <= value <= high


def _text(value: object, pattern: re.Pattern[str]) -> bool:
    return type(value) is str and pattern.fullmatch(value) is not None


def plain_vote(body: bytes) -> tuple[dict[str, Any], str] | None:
    """(message, signature) as ``SignedVote.model_dump()`` gives them, when the body is
    one the model accepts without coercion; None for anything else (FastAPI decides)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    message, signature = data.get("message"), data.get("signature")
    if type(message) is not dict or not _text(signature, _SIGNATURE):
        return None
    voter, round_, work = message.get("voter"), message.get("round"), message.get("work")
    direction, amount, nonce = message.get("direction"), message.get("amount"), message.get("nonce")
    if not (
        _text(voter, _ADDRESS)
        and _json_int(round_, 0, ROUND_LIMIT - 1)
        and _text(work, _HASH)
        and type(direction) is int
        and direction in (1, -1)
        and (_text(amount, _AMOUNT) or _json_int(amount, 1, SAFE_INT))
        and (_text(nonce, _UINT) or _json_int(nonce, 0, SAFE_INT))
    ):
        return None
    fields = {
        "voter": voter,
        "round": round_,
        "work": work,
        "direction": direction,
        "amount": amount,
        "nonce": nonce,
    }
    return fields, signature  # type: ignore[return-value]


# --- the ASGI layer ----------------------------------------------------------------


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; None if the client went away first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands FastAPI the body already read, then the real one."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _is_json(scope: Scope) -> bool:
    """The body is JSON for FastAPI: no content type, or application/json."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            main = value.split(b";", 1)[0].strip().lower()
            return main == b"application/json"
    return True


async def _send(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] = _JSON_HEADERS
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_problem(send: Send, scope: Scope, exc: Exception) -> None:
    status, code, detail, extra, headers = problem_of(exc, scope["path"])
    body = orjson.dumps(problem_body(status, code, detail, scope["path"], **extra))
    raw = [(b"content-type", MEDIA_TYPE.encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await _send(send, status, body, raw)


class HotRoutes:
    """ASGI middleware answering the ordinary next-work and vote requests itself."""

    def __init__(
        self,
        app: ASGIApp,
        web: WebContext,
        sessions: Sessions,
        max_body: int,
        trusted: Sequence[str] = (),
    ) -> None:
        self.app, self.web, self.sessions, self.max_body = app, web, sessions, max_body
        self.trusted = trusted_origins(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = get_route_path(scope)
            if path == "/api/votes":
                await self._vote(scope, receive, send)
                return
            if path.endswith("/next"):
                matched = _NEXT.fullmatch(path)
                if matched is not None and int(matched[1]) < ROUND_LIMIT:
                    who = self._signed_in(scope)
                    if who is not None:
                        await self._answer(scope, send, next_answer(self.web, int(matched[1]), who))
                        return
        await self.app(scope, receive, send)

    def _signed_in(self, scope: Scope) -> SignedIn | None:
        """What the ``Cookie`` dependency gives (web/deps.signed_in), or None; also None
        for a request that ``BodyLimit`` or ``SameOrigin`` would not pass unchanged."""
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            text = value.decode("latin-1")
            if name == b"cookie":
                cookies.update(cookie_parser(text))
            headers[name.decode("latin-1").lower()] = text
        declared = headers.get("content-length")
        if (
            "transfer-encoding" in headers
            or (declared is not None and not (declared.isascii() and declared.isdigit()))
            or (declared is not None and int(declared) > self.max_body)
            or cross_site_refusal(headers, scope, self.trusted) is not None
        ):
            return None
        named = self.sessions.named(cookies.get(SESSION_COOKIE), self.web.chain_id)
        return None if named is None else SignedIn(*named)

    async def _vote(self, scope: Scope, receive: Receive, send: Send) -> None:
        who = self._signed_in(scope)
        if who is None:  # also: the body may be over the limit: not read here
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client has gone: nothing to answer, nothing stored
        plain = plain_vote(body) if who is not None and _is_json(scope) else None
        if who is None or plain is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await self._answer(scope, send, vote_answer(self.web, who, *plain))

    async def _answer(self, scope: Scope, send: Send, work: Any) -> None:
        try:
            answer = await work
        except Exception as exc:  # a refusal, the database or the chain: a problem document
            await _send_problem(send, scope, exc)
            return
        await _send(send, 200, orjson.dumps(answer))
