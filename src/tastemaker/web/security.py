"""Two pure ASGI middlewares: a body size limit and a same-origin check.

Both run before any route, so a refused request never reaches the application.
They are ASGI rather than ``BaseHTTPMiddleware`` so a streamed body is counted as
it arrives, not after it has been read whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _problem(send: Send, status: int, code: str, detail: str, path: str) -> None:
    body = json.dumps(
        {
            "type": f"/problems/{code}",
            "title": {403: "Forbidden", 413: "Content Too Large"}.get(status, "Error"),
            "status": status,
            "detail": detail,
            "code": code,
            "instance": path,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, by header or by counting."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _problem(send, 413, "body_too_large", self._detail(), scope["path"])
            return
        if chunked is None:
            # A declared length within the limit, or no body at all: the HTTP parser
            # frames the body by that length, so there is nothing more to count.
            await self.app(scope, receive, send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not started:
                    # Answer now, then tell the app the client has gone so it stops.
                    refused = True
                    await _problem(send, 413, "body_too_large", self._detail(), scope["path"])
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # our 413 has gone out; whatever the app says after is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not refused:
                raise

    def _detail(self) -> str:
        return f"request body is larger than {self.limit} bytes"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class SameOrigin:
    """Refuse state-changing requests sent by another site (CSRF defence in depth,
    beside SameSite=Strict cookies): ``Sec-Fetch-Site`` must be same-origin or none,
    and an ``Origin`` header, when present, must name this server."""

    def __init__(self, app: ASGIApp, trusted: Sequence[str] = ()) -> None:
        self.app = app
        # Configured public origins also count as "this server" (behind a TLS proxy
        # the request's own scheme is http while the browser's Origin is https).
        self.trusted = trusted_origins(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refusal = cross_site_refusal(headers, scope, self.trusted)
        if refusal:
            await _problem(send, 403, "cross_site", refusal, scope["path"])
            return
        await self.app(scope, receive, send)


def trusted_origins(trusted: Sequence[str]) -> frozenset[str]:
    return frozenset(_origin_of(o) for o in trusted)


def cross_site_refusal(
    headers: dict[str, str], scope: dict[str, Any], trusted: frozenset[str] = frozenset()
) -> str | None:
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"cross-site request refused (Sec-Fetch-Site: {fetch_site})"
    origin = headers.get("origin")
    if origin is not None:
        scheme = scope.get("scheme", "http")
        host = headers.get("host", "")
        own = f"{scheme}://{host}".lower()
        if origin == "null" or _origin_of(origin) not in trusted | {own}:
            return f"cross-site request refused (Origin: {origin})"
    return None
