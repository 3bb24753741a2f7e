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

from tastemaker.chain.errors import ChainError, TransactionReverted
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


def problem_response(
    request: Request, status: int, code: str, detail: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


# A refused vote is the member's doing (422) except a round that is not open (409).
_VOTE_STATUS = {"unknown_round": 404, "round_not_open": 409, "round_closed": 409}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}}}
    for status in (400, 401, 403, 404, 409, 413, 422)
}


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
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return problem_response(request, 422, "invalid_request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(TransactionReverted)
    async def _reverted(request: Request, exc: TransactionReverted) -> JSONResponse:
        return problem_response(request, 409, "transaction_reverted", str(exc))

    @app.exception_handler(SATimeoutError)
    async def _busy(request: Request, exc: SATimeoutError) -> JSONResponse:
        response = problem_response(
            request, 503, "busy", "the server is busy: try again in a moment"
        )
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a user error: logged with its traceback, answered without one.
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(request, 500, "internal_error", "the server failed; see its log")

    @app.exception_handler(ChainError)
    async def _chain(request: Request, exc: ChainError) -> JSONResponse:
        log.warning("chain error on %s: %s", request.url.path, exc)
        return problem_response(request, 503, "chain_unavailable", str(exc))
