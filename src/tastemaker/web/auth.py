"""SIWE nonces (server-side, single use, expiring) and the signed session cookie.

Nonces live in the store's ``web_siwe_nonces`` table (migration 0003; before it,
the app created the table itself: docs/decisions/0020-siwe-nonces.md). A nonce is
consumed by one conditional UPDATE, so two requests replaying the same signed
message cannot both succeed, even from two processes.

The consumed nonce's row is also the session's server-side record: consuming it
sets its expiry to the session's end, every request checks the row is still
there, and signing out deletes it, so a copied cookie stops working at logout.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from tastemaker.store.tables import SiweNonce
from tastemaker.web.problems import Problem

SESSION_COOKIE = "tm_session"
VERIFIED_CACHE = 65_536  # sessions remembered per process (a dict: cleared when full)
nonces = SiweNonce.__table__


class NonceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, now: datetime, ttl: timedelta) -> tuple[str, datetime]:
        nonce = secrets.token_hex(16)
        expires = now + ttl
        with self.engine.begin() as connection:
            # Expired nonces are useless: drop them as new ones are issued.
            connection.execute(delete(nonces).where(nonces.c.expires_at < now - ttl))
            connection.execute(
                insert(nonces).values(nonce=nonce, issued_at=now, expires_at=expires)
            )
        return nonce, expires

    def consume(self, nonce: str, now: datetime, session_until: datetime) -> None:
        """Mark ``nonce`` used; refuse one that is unknown, used or expired. The row
        then records the session it starts, valid until ``session_until``."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(nonces)
                .where(
                    nonces.c.nonce == nonce,
                    nonces.c.used_at.is_(None),
                    nonces.c.expires_at > now,
                )
                .values(used_at=now, expires_at=session_until)
            )
        if done.rowcount != 1:
            raise Problem(
                401,
                "nonce_refused",
                "this sign-in nonce is unknown, expired or already used: sign in again",
            )

    def session_active(self, nonce: str, now: datetime) -> bool:
        """Whether the session started with ``nonce`` is still live (not signed out)."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(nonces.c.nonce).where(
                    nonces.c.nonce == nonce,
                    nonces.c.used_at.is_not(None),
                    nonces.c.expires_at > now,
                )
            ).first()
        return found is not None

    def revoke(self, nonce: str) -> None:
        """End the session started with ``nonce`` for every copy of its cookie."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(nonces).where(nonces.c.nonce == nonce, nonces.c.used_at.is_not(None))
            )


class Sessions:
    """A signed, expiring cookie naming the member's address and the sign-in's nonce
    (HttpOnly, SameSite=Strict), valid while the nonce's row says so."""

    def __init__(self, secret: bytes, max_age: int, secure: bool, store: NonceStore) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="tastemaker-session")
        self.max_age, self.secure, self.store = max_age, secure, store
        # token -> (payload, signed at, epoch seconds): tokens whose signature held.
        self._verified: dict[str, tuple[dict, int]] = {}

    def start(self, response: Response, address: str, chain_id: int, nonce: str) -> None:
        token = self._serializer.dumps({"address": address, "chain_id": chain_id, "sid": nonce})
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.max_age,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )

    def end(self, request: Request, response: Response) -> None:
        data = self._data(request)
        if data is not None:
            self.store.revoke(data["sid"])
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")

    def _data(self, request: Request) -> dict | None:
        return self._token_data(request.cookies.get(SESSION_COOKIE))

    def _token_data(self, token: str | None) -> dict | None:
        """The cookie's payload if its signature holds and it is not older than
        ``max_age`` (itsdangerous's checks). A token's signature is checked once per
        process and remembered (an HMAC and base64 per request were 5% of the hot
        routes' CPU); its age is checked on every use. Revocation is unaffected: that
        is the server-side row, checked on every request."""
        if not token:
            return None
        hit = self._verified.get(token)
        if hit is None:
            try:
                data, signed_at = self._serializer.loads(token, return_timestamp=True)
            except BadSignature:
                return None
            if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
                return None  # also a cookie from before sessions were revocable
            if len(self._verified) >= VERIFIED_CACHE:
                self._verified.clear()
            hit = self._verified[token] = (data, int(signed_at.timestamp()))
        data, signed_at = hit
        age = int(time.time()) - signed_at  # as itsdangerous's TimestampSigner counts
        if age > self.max_age or age < 0:
            return None
        return data

    def cookie(self, request: Request, chain_id: int) -> tuple[str, str] | None:
        """(address, sid) the cookie names, its signature and age checked, but not yet
        its server-side row: the caller checks that (``member``, or the group commit
        of web/intake.py, which checks a whole batch's sessions in one query)."""
        return self.named(request.cookies.get(SESSION_COOKIE), chain_id)

    def named(self, token: str | None, chain_id: int) -> tuple[str, str] | None:
        """``cookie`` for the cookie's value."""
        data = self._token_data(token)
        if data is None or data.get("chain_id") != chain_id:
            return None
        address = data.get("address")
        return (address, data["sid"]) if isinstance(address, str) else None

    def member(self, request: Request, chain_id: int, now: datetime) -> str | None:
        named = self.cookie(request, chain_id)
        if named is None or not self.store.session_active(named[1], now):
            return None
        return named[0]
