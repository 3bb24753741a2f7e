"""One server process of ``tastemaker serve --workers N``.

The parent process prepares the deployment (contracts, DEV stakes, round 1, the
session key) and owns the embedded node; uvicorn's supervisor then spawns N
processes that each build the app with ``create_worker_app`` from the same
environment, attach to the same chain and share the one database. The supervisor
restarts a worker that dies; every vote a worker acknowledged was committed first.
"""

from __future__ import annotations

from fastapi import FastAPI

from tastemaker.chain.client import ChainClient
from tastemaker.chain.settings import ChainSettings
from tastemaker.settings import get_settings
from tastemaker.store.db import Database
from tastemaker.web.app import create_app
from tastemaker.web.serve import serve_context
from tastemaker.web.settings import WebSettings


def create_worker_app() -> FastAPI:
    """The app of one worker process (uvicorn ``factory=True``)."""
    settings = get_settings()
    web_settings = WebSettings()  # origins and the rest: set by the parent's environment
    db = Database(settings.db_url, migrate=False)  # the parent migrated it
    try:
        # Embedded: attaches to the node the parent started (its lock is held), so the
        # worker never starts one of its own; otherwise the configured RPC node.
        chain = ChainClient.connect(ChainSettings(home=settings.home))
    except BaseException:
        db.dispose()
        raise
    ctx = serve_context(settings, db, chain)

    def close() -> None:
        db.dispose()
        chain.close()  # attached, not started here: leaves the parent's node running

    return create_app(ctx, web_settings, on_close=close)
