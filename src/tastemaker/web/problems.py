"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error a user can cause is raised as ``Problem`` (or mapped to one from a
domain error) so the client always gets a status, a stable ``code`` and a
sentence, never a traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from tastemaker.chain.errors import ChainError, TransactionReverted
from tastemaker.rounds.intake import Overloaded
from tastemaker.rounds.votes import VoteRefused

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemDetail(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


def problem_body(status: int, code: str, detail: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": path,
        **extra,
    }


def problem_response(
    request: Request, status: int, code: str, detail: str, **extra: Any
) -> JSONResponse:
    body = problem_body(status, code, detail, request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


# A refused vote: a request the schema accepts is never answered 422 (that would say
# "malformed"). A vote that breaks a rule of the round's state (budget left, pool,
# the stored nonce, the window) is a 409; one whose signature is not the voter's, 403.
_VOTE_STATUS = {
    "unknown_round": 404,
    "round_not_open": 409,
    "round_closed": 409,
    "not_in_pool": 409,
    "stale_nonce": 409,
    "over_budget": 409,
    "bad_signature": 403,
}

# Parameters whose refusal has a code of its own (the schema states their pattern).
_ADDRESS = ("bad_address", "not an Ethereum address (0x and 40 hex digits)")
_HASH = ("bad_hash", "not a 32-byte hex hash (0x and 64 hex digits)")
_PARAMETER_CODES = {
    ("query", "cursor"): ("bad_cursor", "cursor must be a next_cursor from a previous page"),
    ("path", "content_hash"): _HASH,
    ("path", "address"): _ADDRESS,
    ("path", "account"): _ADDRESS,
    ("query", "member"): _ADDRESS,
    ("body", "address"): _ADDRESS,
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}}}
    for status in (400, 401, 403, 404, 409, 413, 422)
}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some route of ``app`` answers on the request's path (asked of the
    router itself, so included routers and mounts count as they route)."""
    # A fresh scope at the app's root: the one a mount handled has its root_path moved.
    base = {"type": "http", "path": request.url.path, "root_path": "", "headers": []}
    routes = app.router.routes
    if any(isinstance(r, Mount) and r.matches(base)[0] == Match.FULL for r in routes):
        return ["GET", "HEAD"]  # static files answer those only
    return [
        method
        for method in _METHODS
        if any(r.matches({**base, "method": method})[0] == Match.FULL for r in routes)
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(VoteRefused)
    async def _refused(request: Request, exc: VoteRefused) -> JSONResponse:
        return problem_response(request, _VOTE_STATUS.get(exc.code, 422), exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        named = _PARAMETER_CODES.get(tuple(first["loc"]))
        if named is not None:
            return problem_response(request, 422, named[0], named[1], errors=errors)
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return problem_response(request, 422, "invalid_request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = problem_response(request, exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # RFC 9110 15.5.6: a 405 names the methods the resource does support. Every
            # route on the path counts, not only the first one the router tried.
            response.headers["Allow"] = ", ".join(allowed_methods(app, request))
        return response

    async def _mapped(request: Request, exc: Exception) -> JSONResponse:
        status, code, detail, extra, headers = problem_of(exc, request.url.path)
        response = problem_response(request, status, code, detail, **extra)
        response.headers.update(headers)
        return response

    for kind in (TransactionReverted, Overloaded, SATimeoutError, ChainError, Exception):
        app.add_exception_handler(kind, _mapped)


def problem_of(exc: Exception, path: str) -> tuple[int, str, str, dict[str, Any], dict[str, str]]:
    """(status, code, detail, extra fields, headers) of the problem document answering
    ``exc``: the mapping of the handlers ``install`` registers, for code that answers
    outside FastAPI's exception handling (web/hot.py)."""
    if isinstance(exc, Problem):
        return exc.status, exc.code, exc.detail, exc.extra, {}
    if isinstance(exc, VoteRefused):
        return _VOTE_STATUS.get(exc.code, 422), exc.code, str(exc), {}, {}
    if isinstance(exc, TransactionReverted):
        return 409, "transaction_reverted", str(exc), {}, {}
    if isinstance(exc, Overloaded):
        return 503, "busy", f"the server is busy: {exc}", {}, {"Retry-After": "1"}
    if isinstance(exc, SATimeoutError):
        detail = "the server is busy: try again in a moment"
        return 503, "busy", detail, {}, {"Retry-After": "1"}
    if isinstance(exc, ChainError):
        log.warning("chain error on %s: %s", path, exc)
        return 503, "chain_unavailable", str(exc), {}, {}
    # A bug, not a user error: logged with its traceback, answered without one.
    log.error("unhandled error on %s", path, exc_info=exc)
    return 500, "internal_error", "the server failed; see its log", {}, {}
