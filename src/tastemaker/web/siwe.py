"""Sign-In with Ethereum (EIP-4361) messages: build, parse, check, recover.

The ``siwe`` package pins web3 < 8, so the message grammar is implemented here
and the signature (EIP-191 ``personal_sign``) is recovered with eth-account.
Pure functions: the nonce store and the session live in ``web.auth``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address

HEADER = " wants you to sign in with your Ethereum account:"
CLOCK_SKEW = timedelta(minutes=5)
MAX_MESSAGE_BYTES = 4096
_NONCE = re.compile(r"^[A-Za-z0-9]{8,}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_FIELDS = {
    "URI": "uri",
    "Version": "version",
    "Chain ID": "chain_id",
    "Nonce": "nonce",
    "Issued At": "issued_at",
    "Expiration Time": "expiration_time",
    "Not Before": "not_before",
    "Request ID": "request_id",
}


class SiweError(ValueError):
    """A sign-in message that is malformed, stale, or not for this site."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _time(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SiweError("malformed_message", f"{name} is not an RFC 3339 time: {text!r}") from None
    if moment.tzinfo is None:
        raise SiweError("malformed_message", f"{name} must carry a time zone: {text!r}")
    return moment


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    statement: str | None = None
    version: str = "1"
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default=())
    scheme: str | None = None

    def text(self) -> str:
        """The exact EIP-4361 text a wallet shows and signs (its ABNF, line by line)."""
        if self.statement is not None and ("\n" in self.statement or not self.statement):
            raise SiweError("malformed_message", "the statement must be one non-empty line")
        if not _NONCE.match(self.nonce):
            raise SiweError("malformed_message", "the nonce must be 8 or more letters and digits")
        prefix = f"{self.scheme}://" if self.scheme else ""
        lines = [f"{prefix}{self.domain}{HEADER}", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        else:
            lines += [""]
        lines += [
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {iso(self.issued_at)}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {iso(self.expiration_time)}")
        if self.not_before is not None:
            lines.append(f"Not Before: {iso(self.not_before)}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines += ["Resources:", *(f"- {r}" for r in self.resources)]
        return "\n".join(lines)


def parse(text: str) -> SiweMessage:
    """Parse EIP-4361 text; ``SiweError('malformed_message')`` when it does not follow it."""
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise SiweError("malformed_message", "sign-in message is too long")
    lines = text.split("\n")
    if len(lines) < 8 or not lines[0].endswith(HEADER):
        raise SiweError("malformed_message", "not an EIP-4361 sign-in message")
    domain, address = lines[0][: -len(HEADER)], lines[1]
    scheme = None
    if "://" in domain:  # `[ scheme "://" ] domain` since the 2023 revision of the ABNF
        scheme, domain = domain.split("://", 1)
        if not _SCHEME.match(scheme):
            raise SiweError("malformed_message", f"{scheme!r} is not a URI scheme")
    if not domain or " " in domain or "/" in domain:
        raise SiweError("malformed_message", "the message names no domain")
    if not is_checksum_address(address):
        raise SiweError("malformed_message", f"{address!r} is not an EIP-55 checksum address")
    if lines[2] != "":
        raise SiweError("malformed_message", "a blank line must follow the address")
    rest = lines[3:]
    statement = None
    if rest and rest[0] != "":
        statement = rest[0]
        if len(rest) < 2 or rest[1] != "":
            raise SiweError("malformed_message", "a blank line must follow the statement")
        rest = rest[2:]
    else:
        rest = rest[1:]
    values: dict[str, str] = {}
    resources: list[str] = []
    order = list(_FIELDS)
    position = 0
    for i, line in enumerate(rest):
        if line == "Resources:":
            resources = [r[2:] for r in rest[i + 1 :] if r.startswith("- ")]
            if len(resources) != len(rest) - i - 1:
                raise SiweError("malformed_message", "resources must be lines starting '- '")
            break
        key, sep, value = line.partition(": ")
        if not sep or key not in _FIELDS or key in values:
            raise SiweError("malformed_message", f"unexpected line {line!r}")
        if order.index(key) < position:
            raise SiweError("malformed_message", f"{key} is out of order")
        position = order.index(key)
        values[key] = value
    for required in ("URI", "Version", "Chain ID", "Nonce", "Issued At"):
        if required not in values:
            raise SiweError("malformed_message", f"the message has no {required}")
    if values["Version"] != "1":
        raise SiweError("malformed_message", "only version 1 of EIP-4361 is known")
    if not values["Chain ID"].isdigit():
        raise SiweError("malformed_message", "Chain ID must be a number")
    if not _NONCE.match(values["Nonce"]):
        raise SiweError("malformed_message", "the nonce must be 8 or more letters and digits")
    return SiweMessage(
        domain=domain,
        address=address,
        statement=statement,
        uri=values["URI"],
        version="1",
        chain_id=int(values["Chain ID"]),
        nonce=values["Nonce"],
        issued_at=_time(values["Issued At"], "Issued At"),
        expiration_time=(
            _time(values["Expiration Time"], "Expiration Time")
            if "Expiration Time" in values
            else None
        ),
        not_before=_time(values["Not Before"], "Not Before") if "Not Before" in values else None,
        request_id=values.get("Request ID"),
        resources=tuple(resources),
        scheme=scheme,
    )


def check(
    message: SiweMessage,
    *,
    domain: str,
    origin: str,
    chain_id: int,
    now: datetime,
    max_age: timedelta,
) -> None:
    """Refuse a message meant for another site, chain or time (the nonce is checked apart)."""
    if message.domain != domain:
        raise SiweError("wrong_domain", f"message is for {message.domain}, this site is {domain}")
    if message.scheme is not None and not origin.startswith(f"{message.scheme}://"):
        raise SiweError("wrong_domain", f"message is for {message.scheme}://, not {origin}")
    if not (message.uri == origin or message.uri.startswith(origin + "/")):
        raise SiweError("wrong_uri", f"message URI {message.uri} is not on {origin}")
    if message.chain_id != chain_id:
        raise SiweError(
            "wrong_chain", f"message is for chain {message.chain_id}, this site uses {chain_id}"
        )
    if message.issued_at > now + CLOCK_SKEW:
        raise SiweError("not_yet_valid", "message is issued in the future")
    if message.issued_at < now - max_age:
        raise SiweError("expired", "message was issued too long ago: sign in again")
    if message.expiration_time is not None and message.expiration_time <= now:
        raise SiweError("expired", "message has expired: sign in again")
    if message.not_before is not None and message.not_before > now + CLOCK_SKEW:
        raise SiweError("not_yet_valid", "message is not valid yet")


def recover(text: str, signature: str) -> str:
    """The address that ``personal_sign``-ed ``text``."""
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except Exception as exc:  # eth-account raises several types for bad input
        raise SiweError("bad_signature", f"signature cannot be recovered: {exc}") from None
