"""Pinning a site's content (minted works' metadata and media) where IPFS can find it.

Two kinds of pinner, each optional (settings ``TASTEMAKER_IPFS_*``):

- a kubo node, through its HTTP RPC API: ``/api/v0/add`` with ``cid-version=1``,
  ``raw-leaves`` and a 1 MiB chunk, so a file of one chunk gets the same raw CID the
  store gave it (checked: a node that answers another CID is an error), then
  ``/api/v0/pin/ls`` to say whether a CID is pinned;
- any service that speaks the IPFS Pinning Service API (``POST /pins``,
  ``GET /pins?cid=``), with a bearer token. The service fetches the content from the
  IPFS network; a configured kubo node's addresses are offered as ``origins``.

Every failure (node down, an answer that is not the API's) is a ``PinError`` naming
the pinner; nothing here writes to the site's database or media.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tastemaker.errors import TastemakerError

MAX_BLOCK = 1024 * 1024  # kubo's largest chunk: bigger files get a dag-pb root CID
PSA_STATUSES = ("queued", "pinning", "pinned", "failed")
RANK = {"failed": 0, "queued": 1, "pinning": 2, "pinned": 3}


class PinError(TastemakerError):
    """A pinner that cannot be reached, or answers something that is not its API."""


class PinSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_IPFS_", extra="ignore")

    kubo_url: str | None = Field(
        default=None, description="A kubo node's RPC API, e.g. http://127.0.0.1:5001."
    )
    pinning_url: str | None = Field(
        default=None,
        description="An IPFS Pinning Service API endpoint, e.g. https://pins.example/psa.",
    )
    pinning_token: SecretStr | None = Field(
        default=None, description="Bearer token for the pinning service."
    )
    timeout: float = Field(default=20.0, gt=0, description="Seconds to wait for a pinner.")


@dataclass(frozen=True)
class PinStatus:
    cid: str
    where: str
    status: str  # pinned, queued, pinning, failed, unpinned


class Pinner(Protocol):
    where: str

    def pin(self, cid: str, data: bytes, name: str) -> PinStatus: ...

    def status(self, cid: str) -> PinStatus: ...


def _json(response: requests.Response, where: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise PinError(
            f"{where} answered something that is not JSON (HTTP {response.status_code}): "
            f"{response.text[:80]!r}"
        ) from None


def _request(where: str, method: str, url: str, **kwargs: Any) -> requests.Response:
    try:
        return requests.request(method, url, **kwargs)
    except requests.RequestException as exc:
        raise PinError(f"cannot reach {where}: {type(exc).__name__}") from None


class KuboPinner:
    def __init__(self, url: str, timeout: float = 20.0) -> None:
        self.url = url.rstrip("/")
        self.where = f"kubo at {self.url}"
        self.timeout = timeout

    def _rpc(self, command: str, params: dict[str, str], **kwargs: Any) -> requests.Response:
        return _request(
            self.where,
            "POST",  # kubo's RPC API takes POST only
            f"{self.url}/api/v0/{command}",
            params=params,
            timeout=self.timeout,
            **kwargs,
        )

    def pin(self, cid: str, data: bytes, name: str) -> PinStatus:
        if len(data) > MAX_BLOCK:
            raise PinError(f"{name} is over 1 MiB: IPFS would give it another CID than {cid}")
        params = {
            "cid-version": "1",
            "raw-leaves": "true",
            "chunker": f"size-{MAX_BLOCK}",
            "hash": "sha2-256",
            "pin": "true",
            "quieter": "true",
        }
        response = self._rpc("add", params, files={"file": (name, data)})
        if response.status_code != 200:
            raise PinError(f"{self.where} refused to add {name}: {self._message(response)}")
        # One JSON object per line ({"Name", "Hash", "Size"}); the last names the root.
        lines = [line for line in response.text.splitlines() if line.strip()]
        try:
            added = json.loads(lines[-1])["Hash"]
        except (IndexError, ValueError, KeyError, TypeError):
            raise PinError(
                f"{self.where} answered /api/v0/add with something else: {response.text[:80]!r}"
            ) from None
        if added != cid:
            raise PinError(f"{self.where} made {added} of {name}, not its CID {cid}")
        return PinStatus(cid, self.where, "pinned")

    def status(self, cid: str) -> PinStatus:
        response = self._rpc("pin/ls", {"arg": cid, "type": "recursive"})
        body = _json(response, self.where)
        if response.status_code == 200 and isinstance(body, dict):
            keys = body.get("Keys")
            if isinstance(keys, dict):
                return PinStatus(cid, self.where, "pinned" if cid in keys else "unpinned")
        if response.status_code == 500 and "not pinned" in self._message(response):
            return PinStatus(cid, self.where, "unpinned")
        raise PinError(f"{self.where} answered /api/v0/pin/ls with {response.text[:80]!r}")

    def addresses(self) -> list[str]:
        """The node's multiaddrs (with /p2p/), offered to a pinning service as origins."""
        try:
            found = _json(self._rpc("id", {}), self.where).get("Addresses") or []
        except (PinError, AttributeError):
            return []
        return [a for a in found if isinstance(a, str)][:20]

    @staticmethod
    def _message(response: requests.Response) -> str:
        try:
            return str(response.json().get("Message", response.text[:80]))
        except (ValueError, AttributeError):
            return f"HTTP {response.status_code} {response.text[:80]!r}"


class PinningService:
    """A client of the IPFS Pinning Service API (ipfs.github.io/pinning-services-api-spec)."""

    def __init__(
        self, url: str, token: str, timeout: float = 20.0, origins: list[str] | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.where = f"pinning service at {self.url}"
        self.timeout = timeout
        self.origins = origins or []
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = _request(
            self.where,
            method,
            f"{self.url}{path}",
            headers=self._headers,
            timeout=self.timeout,
            **kwargs,
        )
        body = _json(response, self.where)
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            detail = ""
            if isinstance(error, dict):
                detail = str(error.get("details") or error.get("reason") or "")
            raise PinError(f"{self.where} refused: HTTP {response.status_code} {detail}".strip())
        if not isinstance(body, dict):
            raise PinError(f"{self.where} answered {str(body)[:80]!r}, not a pin status")
        return body

    def _state(self, cid: str, body: dict[str, Any]) -> PinStatus:
        status = body.get("status")
        if status not in PSA_STATUSES:
            raise PinError(f"{self.where} answered a pin status of {status!r}")
        return PinStatus(cid, self.where, status)

    def status(self, cid: str) -> PinStatus:
        body = self._call("GET", "/pins", params={"cid": cid, "status": ",".join(PSA_STATUSES)})
        results = body.get("results")
        if not isinstance(results, list) or not isinstance(body.get("count"), int):
            raise PinError(f"{self.where} answered GET /pins without count and results")
        if not results:
            return PinStatus(cid, self.where, "unpinned")
        # The most advanced request for this CID speaks for it.
        states = [self._state(cid, r) for r in results if isinstance(r, dict)]
        if not states:
            raise PinError(f"{self.where} answered GET /pins with results that are not pins")
        return max(states, key=lambda state: RANK[state.status])

    def pin(self, cid: str, data: bytes, name: str) -> PinStatus:
        current = self.status(cid)
        if current.status in ("queued", "pinning", "pinned"):
            return current  # already asked for: asking again would add a second request
        request = {"cid": cid, "name": name, "origins": self.origins}
        return self._state(cid, self._call("POST", "/pins", json=request))


def pinners(settings: PinSettings | None = None) -> list[Pinner]:
    """The pinners the settings name (none configured: an empty list)."""
    settings = settings or PinSettings()
    found: list[Pinner] = []
    kubo = KuboPinner(settings.kubo_url, settings.timeout) if settings.kubo_url else None
    if kubo:
        found.append(kubo)
    if settings.pinning_url:
        if settings.pinning_token is None:
            raise PinError("TASTEMAKER_IPFS_PINNING_URL needs TASTEMAKER_IPFS_PINNING_TOKEN")
        origins = kubo.addresses() if kubo else []
        found.append(
            PinningService(
                settings.pinning_url,
                settings.pinning_token.get_secret_value(),
                settings.timeout,
                origins,
            )
        )
    return found
