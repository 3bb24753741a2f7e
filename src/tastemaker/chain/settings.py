"""Chain settings, read from the environment (prefix ``TASTEMAKER_CHAIN_``).

Kept beside the chain code so the shared ``tastemaker.settings`` stays small; the
state folder comes from ``tastemaker.settings.Settings.home``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tastemaker.settings import get_settings

ETHER = 10**18


class ChainSettings(BaseSettings):
    """Where the chain is and how the contracts are configured at deployment."""

    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_CHAIN_", extra="ignore")

    home: Path = Field(default_factory=lambda: get_settings().home, description="State root.")
    rpc_url: str | None = Field(
        default=None, description="JSON-RPC URL; unset means the embedded local chain."
    )
    chain_id: int | None = Field(
        default=None, description="Expected chain id; a node serving another one is refused."
    )
    keystore: Path | None = Field(default=None, description="Keystore JSON of the sending key.")
    password: SecretStr | None = Field(default=None, description="Password of the keystore.")
    anvil: Path | None = Field(default=None, description="Path of the anvil binary to use.")
    embedded_chain_id: int = Field(default=31337, description="Chain id of the embedded chain.")

    # Deployment parameters (read by `tastemaker chain deploy`).
    treasury: str | None = Field(default=None, description="Treasury; default: the deployer.")
    token_supply: int = Field(default=1_000_000 * ETHER, description="Initial TASTE supply.")
    reserve_price: int = Field(default=10**16, description="Auction reserve price in wei.")
    auction_duration: int = Field(default=48 * 3600, description="Auction length, seconds.")
    time_buffer: int = Field(default=15 * 60, description="Anti-sniping window, seconds.")
    min_increment_bps: int = Field(default=500, description="Minimum raise, basis points.")
    distributor_bps: int = Field(default=4500, description="Voters' share, basis points.")
    operator_bps: int = Field(default=1000, description="Operator's share, basis points.")
    royalty_bps: int = Field(default=500, description="ERC-2981 royalty, basis points.")
    proposer: str | None = Field(
        default=None, description="Timelock proposer (a multisig); default: the deployer."
    )
    executor: str | None = Field(default=None, description="Timelock executor; default: proposer.")
    guardian: str | None = Field(
        default=None, description="May veto reward roots in their window; default: the deployer."
    )
    timelock_delay: int | None = Field(
        default=None, description="Timelock delay, seconds; default 5 on a dev chain, 2 days."
    )
    challenge_window: int | None = Field(
        default=None, description="Seconds before a root is claimable; default 5 dev, 24 h."
    )

    @property
    def chain_dir(self) -> Path:
        return self.home / "chain"

    @property
    def mode(self) -> Literal["embedded", "rpc"]:
        return "rpc" if self.rpc_url else "embedded"
