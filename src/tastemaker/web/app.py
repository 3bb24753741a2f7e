"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tastemaker.rounds.service import RoundContext
from tastemaker.web import pages, problems
from tastemaker.web.api import router as api_router
from tastemaker.web.auth import NonceStore, Sessions, create_tables
from tastemaker.web.context import WebContext, load_secret, utcnow
from tastemaker.web.security import BodyLimit, SameOrigin
from tastemaker.web.settings import WebSettings

HERE = Path(__file__).parent


def create_app(
    rounds: RoundContext,
    settings: WebSettings | None = None,
    now: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The site over one deployment's adapters (the caller owns and closes them)."""
    settings = settings or WebSettings()
    web = WebContext(rounds, settings, load_secret(settings, rounds.home), now)
    create_tables(rounds.db.engine)
    app = FastAPI(
        title="Tastemaker",
        summary="Vote on works, watch rounds, bid, claim rewards, see the taste model.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.web = web
    app.state.nonces = NonceStore(rounds.db.engine)
    app.state.sessions = Sessions(web.secret, settings.session_seconds, settings.secure_cookies)
    problems.install(app)
    app.include_router(api_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Outermost first: the size limit sees every byte before anything else runs.
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
