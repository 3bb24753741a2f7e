"""Web settings, read from the environment (prefix ``TASTEMAKER_WEB_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """How the web app signs sessions, how long things live, and what it refuses."""

    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_WEB_", extra="ignore")

    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies; unset: a random key kept under <home>/web.",
    )
    session_seconds: int = Field(default=24 * 3600, ge=60, description="Session lifetime.")
    nonce_seconds: int = Field(default=600, ge=10, description="How long a SIWE nonce lives.")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest request body.")
    dev_wallets: bool = Field(
        default=True, description="Offer local DEV wallets (only ever on the embedded chain)."
    )
    origins: list[str] = Field(
        default_factory=list,
        description=(
            "Origins this site is reached at (e.g. https://vote.example.org), as a JSON "
            "list. Sign-in messages must name one. Empty: loopback hosts only."
        ),
    )
    chain_name: str = Field(
        default="Tastemaker chain", description="Chain name a wallet is asked to add."
    )
    public_rpc_url: str | None = Field(
        default=None,
        description=(
            "JSON-RPC URL browser wallets reach the chain at (offered when a wallet must "
            "add the chain); unset: the embedded node's URL, or none offered."
        ),
    )
    secure_cookies: bool = Field(default=False, description="Mark cookies Secure (HTTPS only).")
    print_size: int = Field(default=2048, ge=64, le=8192, description="Print render side, px.")
