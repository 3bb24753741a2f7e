"""Bring a deployment to a servable state: contracts deployed, a round open.

On the embedded chain this also stakes TASTE for the DEV wallets, so someone
trying the site without a browser wallet has voting power to spend.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.deployment import params_from_settings
from tastemaker.chain.settings import ChainSettings
from tastemaker.errors import UsageError
from tastemaker.rounds import states
from tastemaker.rounds.service import RoundContext, latest_round, open_round
from tastemaker.rounds.settings import RoundSettings
from tastemaker.settings import Settings
from tastemaker.store.db import Database
from tastemaker.store.media import MediaStore
from tastemaker.web.devwallet import DEV_INDICES

ETHER = 10**18
DEV_STAKE = 1000 * ETHER  # per DEV wallet: 1,000 VP on the linear curve


def ensure_deployment(chain: ChainClient, settings: ChainSettings) -> bool:
    """Deploy the contracts if this chain has none; True if it deployed."""
    if chain.has_deployment():
        return False
    chain.deploy(params_from_settings(settings, chain))
    return True


def stake_dev_wallets(chain: ChainClient) -> None:
    """Embedded chain only: give each DEV wallet TASTE and stake it (once)."""
    if chain.node is None:
        return
    for i in DEV_INDICES:
        account = dev_account(i)
        if chain.staked(account.address) == 0:
            chain.transfer_token(account.address, DEV_STAKE)
            chain.stake(DEV_STAKE, sender=account)


def ensure_open_round(ctx: RoundContext, say: Callable[[str], None] = print) -> int | None:
    """Open round 1 if there is no round; returns the round being voted on, if any."""
    with ctx.db.unit_of_work() as session:
        last = latest_round(session)
        number, state = (last.number, last.state) if last else (None, None)
    if number is None:
        say("opening round 1 (generating and curating candidates)")
        return open_round(ctx)
    return number if state == states.VOTING else None


# A first round that opens in seconds on a laptop; any TASTEMAKER_ROUND_* set wins.
DEV_ROUND = {"candidates": 200, "new_works": 60, "pool_size": 180, "image_size": 256}


def serve_round_settings(embedded: bool) -> RoundSettings:
    if not embedded:
        return RoundSettings()
    chosen = {
        k: v for k, v in DEV_ROUND.items() if f"TASTEMAKER_ROUND_{k.upper()}" not in os.environ
    }
    return RoundSettings(**chosen)


def serve_context(settings: Settings, db: Database, chain: ChainClient) -> RoundContext:
    """The round context a server process (the parent or a worker) serves from."""
    from tastemaker.rounds.bootstrap import make_curator

    return RoundContext(
        db=db,
        chain=chain,
        media=MediaStore(settings.media_dir),
        settings=serve_round_settings(chain.node is not None),
        curator=make_curator(settings.curator, settings),
        home=settings.home,
        engine_name=settings.engine,
    )


def serve_origins(host: str, port: int) -> list[str]:
    """The origins people reach ``tastemaker serve`` at, when none are configured."""
    names = ["127.0.0.1", "localhost"] if host in ("127.0.0.1", "localhost") else [host]
    return [f"http://{name}:{port}" for name in names]


def check_port(host: str, port: int) -> None:
    """Refuse a port already in use now, before a node starts or a round opens (binding
    as uvicorn will, with SO_REUSEADDR; the port is free again when this returns)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror}; stop what holds it or "
                "pick another port (--port, or make run PORT=...)"
            ) from None
