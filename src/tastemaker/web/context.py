"""What the web app works with: the round service's adapters, its own settings, a clock."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tastemaker.core.voting_power import Allowance, allowance
from tastemaker.rounds.intake import VoteIntake
from tastemaker.rounds.service import RoundContext
from tastemaker.web.settings import WebSettings

STAKE_CACHE_SECONDS = 60.0


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
    _stakes: dict[str, tuple[float, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Group commit for votes (rounds/intake.py); its writer starts with the first vote.
    intake: VoteIntake = field(init=False)

    def __post_init__(self) -> None:
        self.intake = VoteIntake(self.rounds.db)

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
        with self._lock:
            self._stakes[address] = (time.monotonic(), value)
        return value

    def allowance_of(self, address: str) -> Allowance:
        return allowance(self.staked(address), self.rounds.settings.voting_rules())
