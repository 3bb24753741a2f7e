"""SIWE nonces (server-side, single use, expiring) and the signed session cookie.

Nonces live in the store's ``web_siwe_nonces`` table (migration 0003; before it,
the app created the table itself: docs/decisions/0020-siwe-nonces.md). A nonce is
consumed by one conditional UPDATE, so two requests replaying the same signed
message cannot both succeed, even from two processes.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine

from tastemaker.store.tables import SiweNonce
from tastemaker.web.problems import Problem

SESSION_COOKIE = "tm_session"
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

    def consume(self, nonce: str, now: datetime) -> None:
        """Mark ``nonce`` used; refuse one that is unknown, used or expired."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(nonces)
                .where(
                    nonces.c.nonce == nonce,
                    nonces.c.used_at.is_(None),
                    nonces.c.expires_at > now,
                )
                .values(used_at=now)
            )
        if done.rowcount != 1:
            raise Problem(
                401,
                "nonce_refused",
                "this sign-in nonce is unknown, expired or already used: sign in again",
            )


class Sessions:
    """A signed, expiring cookie naming the member's address (HttpOnly, SameSite=Strict)."""

    def __init__(self, secret: bytes, max_age: int, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="tastemaker-session")
        self.max_age, self.secure = max_age, secure

    def start(self, response: Response, address: str, chain_id: int) -> None:
        token = self._serializer.dumps({"address": address, "chain_id": chain_id})
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.max_age,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")

    def member(self, request: Request, chain_id: int) -> str | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("chain_id") != chain_id:
            return None
        address = data.get("address")
        return address if isinstance(address, str) else None
