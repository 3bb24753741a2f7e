"""``tastemaker serve``: the web app on the embedded default (or the configured chain)."""

from __future__ import annotations

import json
import os
import signal
import sys

import typer
from rich.console import Console

from tastemaker.cli import app

console = Console()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, max=64, help="Server processes sharing the port and the database."
    ),
    access_log: bool = typer.Option(True, help="Log every request (off behind a proxy that logs)."),
) -> None:
    """Run the web app: deploys contracts and opens round 1 first if there are none."""
    import uvicorn

    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings
    from tastemaker.settings import get_settings
    from tastemaker.store.db import Database
    from tastemaker.web import create_app
    from tastemaker.web.context import load_secret
    from tastemaker.web.serve import (
        check_port,
        ensure_deployment,
        ensure_open_round,
        serve_context,
        serve_origins,
        stake_dev_wallets,
    )
    from tastemaker.web.settings import WebSettings

    # SIGTERM (systemd, docker stop, kill) ends the process through the finally below,
    # which stops the node it started: uvicorn shuts down gracefully, then re-raises the
    # signal it caught, and the default action would kill us before the finally runs.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    check_port(host, port)  # a port in use stops us before anything changes
    settings = get_settings()
    web_settings = WebSettings()  # before anything starts: a bad setting stops us here
    settings.home.mkdir(parents=True, exist_ok=True)
    chain_settings = ChainSettings(home=settings.home)
    db = Database(settings.db_url)  # first: a bad database stops us before a node starts
    try:
        chain = ChainClient.connect(chain_settings)
    except BaseException:
        db.dispose()
        raise
    try:
        with console.status("deploying contracts"):
            if ensure_deployment(chain, chain_settings):
                console.print(f"deployed contracts on chain {chain.chain_id}")
        chain.check_deployment()
        stake_dev_wallets(chain)
        ctx = serve_context(settings, db, chain)
        with console.status("preparing a round"):
            number = ensure_open_round(ctx, say=console.print)
        if number is not None:
            console.print(f"round {number} is open for voting")
        console.print(f"Tastemaker at http://{host}:{port}")
        if not web_settings.origins:
            web_settings.origins = serve_origins(host, port)
        options = {"host": host, "port": port, "log_level": "info", "access_log": access_log}
        if workers == 1:
            uvicorn.run(create_app(ctx, web_settings), **options)
            return
        # Several processes: each builds its own app from the environment (web/worker.py).
        # What they must agree on is settled here first: the session key, the origins.
        load_secret(web_settings, settings.home)
        os.environ["TASTEMAKER_WEB_ORIGINS"] = json.dumps(web_settings.origins)
        db.dispose()
        uvicorn.run(
            "tastemaker.web.worker:create_worker_app", factory=True, workers=workers, **options
        )
    finally:
        db.dispose()
        chain.close()


def _exit_on_signal(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)
