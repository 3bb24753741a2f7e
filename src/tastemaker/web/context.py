"""What the web app works with: the round service's adapters, its own settings, a clock."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import select

from tastemaker.core.voting_power import Allowance, allowance
from tastemaker.rounds.service import RoundContext
from tastemaker.store.tables import PoolEntry, Work
from tastemaker.web import queries
from tastemaker.web.intake import WebIntake
from tastemaker.web.settings import WebSettings

STAKE_CACHE_SECONDS = 60.0
WORK_CACHE_SIZE = 8192


def utcnow() -> datetime:
    return datetime.now(UTC)


def load_secret(settings: WebSettings, home: Path) -> bytes:
    """The session signing key: the configured one, else one kept under <home>/web."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = home / "web" / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


@dataclass
class WebContext:
    rounds: RoundContext
    settings: WebSettings
    secret: bytes
    now: Callable[[], datetime] = utcnow
    # address -> (read at, stake, its allowance under this deployment's rules)
    _stakes: dict[str, tuple[float, int, Allowance]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _works: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    # round -> the read of its pool's works in flight: one read for every request
    # that misses at once (200 voters arriving together read it once, not 200 times).
    _pool_reads: dict[int, asyncio.Future[dict[bytes, dict[str, Any]]]] = field(
        default_factory=dict
    )
    # Group commit for votes and next works (web/intake.py); its writer starts with
    # the first one.
    intake: WebIntake = field(init=False)

    def __post_init__(self) -> None:
        self.intake = WebIntake(self.rounds.db)

    @property
    def dev_wallets(self) -> bool:
        """DEV wallets are offered on the embedded chain this process started only, never
        on a node reached by URL (even an anvil: someone else's keys may hold value)."""
        return self.settings.dev_wallets and self.rounds.chain.node is not None

    @property
    def public_rpc_url(self) -> str | None:
        """Where a browser wallet reaches the chain, for ``wallet_addEthereumChain``: the
        setting, or the embedded node's local URL. Never a configured node's URL on its
        own: it may carry an API key."""
        if self.settings.public_rpc_url:
            return self.settings.public_rpc_url
        return self.rounds.chain.rpc_url if self.rounds.chain.node is not None else None

    @property
    def chain_id(self) -> int:
        return self.rounds.chain.chain_id

    def staked(self, address: str) -> int:
        """A member's stake now, cached for a minute: every vote and every shown work
        needs it, and a node round trip each time was most of the server's time under
        load (benchmarks/web_load.py). Safe to cache: this only gates intake; at close
        the tally reads the *minimum* stake over the round's blocks and scales down
        the votes of anyone who spent more than that."""
        with self._lock:
            hit = self._stakes.get(address)
            if hit is not None and time.monotonic() - hit[0] < STAKE_CACHE_SECONDS:
                return hit[1]
        value = self.rounds.chain.staked(address)
        grant = allowance(value, self.rounds.settings.voting_rules())
        with self._lock:
            self._stakes[address] = (time.monotonic(), value, grant)
        return value

    async def work_json(self, number: int, content_hash: bytes) -> dict[str, Any]:
        """A work of round ``number``'s pool as the API shows it. Works are content-
        addressed and never change, so a pool's are read once per process (on a worker
        thread, all of them at the first miss), then served from memory."""
        found = self._works.get(content_hash)
        if found is None:
            reading = self._pool_reads.get(number)
            if reading is None:
                reading = asyncio.ensure_future(to_thread.run_sync(self._read_pool, number))
                self._pool_reads[number] = reading
                reading.add_done_callback(lambda _: self._pool_reads.pop(number, None))
            pool = await asyncio.shield(reading)
            if len(self._works) + len(pool) > WORK_CACHE_SIZE:
                self._works.clear()
            self._works.update(pool)
            found = pool[content_hash]  # a pool entry always has its work (a foreign key)
        return found

    def _read_pool(self, number: int) -> dict[bytes, dict[str, Any]]:
        with self.rounds.db.unit_of_work() as session:
            works = session.scalars(
                select(Work)
                .join(PoolEntry, PoolEntry.work == Work.content_hash)
                .where(PoolEntry.round == number)
            )
            return {work.content_hash: queries.work_json(work) for work in works}

    def cached_allowance(self, address: str) -> Allowance | None:
        """The allowance if the stake is cached (no node round trip), else None."""
        with self._lock:
            hit = self._stakes.get(address)
        if hit is None or time.monotonic() - hit[0] >= STAKE_CACHE_SECONDS:
            return None
        return hit[2]

    async def allowance_async(self, address: str) -> Allowance:
        """``allowance_of`` for a coroutine: a cache hit on the event loop, a node round
        trip on a worker thread."""
        found = self.cached_allowance(address)
        if found is not None:
            return found
        return await to_thread.run_sync(self.allowance_of, address)

    def allowance_of(self, address: str) -> Allowance:
        value = self.staked(address)
        with self._lock:
            hit = self._stakes.get(address)
        if hit is not None and hit[1] == value:
            return hit[2]
        return allowance(value, self.rounds.settings.voting_rules())
