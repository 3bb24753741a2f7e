"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.pool import QueuePool
from starlette.types import Receive, Scope, Send

from tastemaker.rounds.service import RoundContext
from tastemaker.web import docs, gateway, pages, problems
from tastemaker.web.api import router as api_router
from tastemaker.web.auth import NonceStore, Sessions
from tastemaker.web.context import WebContext, load_secret, utcnow
from tastemaker.web.hot import HotRoutes
from tastemaker.web.security import BodyLimit, SameOrigin
from tastemaker.web.settings import WebSettings

HERE = Path(__file__).parent


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Sync routes run on AnyIO's worker threads (40 by default). More threads than
    # database connections only makes requests wait on the pool, where a 30 s
    # checkout timeout turns load into errors; waiting for a thread is fair and free.
    pool = app.state.web.rounds.db.engine.pool
    if isinstance(pool, QueuePool):
        limiter = to_thread.current_default_thread_limiter()
        connections = pool.size() + max(getattr(pool, "_max_overflow", 0), 0)
        limiter.total_tokens = max(4, min(limiter.total_tokens, connections))
    yield
    app.state.web.intake.close()  # votes already received are stored before we stop
    if app.state.on_close is not None:
        app.state.on_close()


class TastemakerApp(FastAPI):
    """FastAPI, with the voter's two hot routes answered before its stack (web/hot.py)."""

    hot: HotRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot is not None and scope["type"] == "http":
            await self.hot(scope, receive, send)  # passes anything else on to FastAPI
        else:
            await super().__call__(scope, receive, send)


def create_app(
    rounds: RoundContext,
    settings: WebSettings | None = None,
    now: Callable[[], datetime] = utcnow,
    on_close: Callable[[], None] | None = None,
) -> FastAPI:
    """The site over one deployment's adapters (the caller owns and closes them, or
    passes ``on_close``, called when the app shuts down)."""
    settings = settings or WebSettings()
    web = WebContext(rounds, settings, load_secret(settings, rounds.home), now)
    app = TastemakerApp(
        lifespan=_lifespan,
        title="Tastemaker",
        summary="Vote on works, watch rounds, bid, claim rewards, see the taste model.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # web/docs.py serves it from the package, offline
        redoc_url=None,
    )
    app.state.web = web
    app.state.on_close = on_close
    app.state.nonces = NonceStore(rounds.db.engine)
    app.state.sessions = Sessions(
        web.secret, settings.session_seconds, settings.secure_cookies, app.state.nonces
    )
    problems.install(app)
    app.include_router(api_router)
    app.include_router(pages.router)
    app.include_router(gateway.router)
    docs.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Outermost first: the size limit sees every byte before anything else runs.
    app.add_middleware(SameOrigin, trusted=settings.origins)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.hot = HotRoutes(
        partial(FastAPI.__call__, app),
        web,
        app.state.sessions,
        settings.max_body_bytes,
        settings.origins,
    )
    return app
