"""Sign-In with Ethereum: nonce, message, verify, session, sign out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tastemaker.web import siwe
from tastemaker.web.auth import NonceStore, Sessions
from tastemaker.web.context import WebContext
from tastemaker.web.deps import ADDRESS_PATTERN, Ctx, MaybeMember, parse_address
from tastemaker.web.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/auth", tags=["auth"], responses=PROBLEM_RESPONSES)
STATEMENT = "Sign in to Tastemaker to vote, bid and claim rewards."


class MessageRequest(BaseModel):
    address: str = Field(pattern=ADDRESS_PATTERN)


class VerifyRequest(BaseModel):
    message: str = Field(max_length=siwe.MAX_MESSAGE_BYTES)
    signature: str = Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _site(request: Request, ctx: WebContext) -> tuple[str, str]:
    """(domain, origin) a sign-in message must name here.

    Taken from the configured origins, never from the Host header alone: a client
    can send any Host, and trusting it would let a phishing site's signed message
    (domain = the phishing site) sign in here by sending Host: phishing-site.
    """
    host = request.headers.get("host") or request.url.netloc
    if ctx.settings.origins:
        for origin in ctx.settings.origins:
            parts = urlsplit(origin)
            if parts.netloc.lower() == host.lower():
                return parts.netloc, f"{parts.scheme}://{parts.netloc}"
        raise Problem(403, "untrusted_host", f"this site does not sign in as {host}")
    if (urlsplit(f"//{host}").hostname or "") in LOOPBACK:
        return host, f"{request.url.scheme}://{host}"
    raise Problem(
        403,
        "untrusted_host",
        f"sign-in through {host} needs TASTEMAKER_WEB_ORIGINS to name this site's origin",
    )


@router.post("/nonce", summary="A fresh single-use sign-in nonce")
def nonce(request: Request, ctx: Ctx) -> dict[str, Any]:
    store: NonceStore = request.app.state.nonces
    value, expires = store.issue(ctx.now(), timedelta(seconds=ctx.settings.nonce_seconds))
    return {"nonce": value, "expires_at": siwe.iso(expires)}


@router.post("/message", summary="An EIP-4361 message for the wallet to sign (with a new nonce)")
def message(request: Request, ctx: Ctx, body: MessageRequest) -> dict[str, Any]:
    address = parse_address(body.address)
    store: NonceStore = request.app.state.nonces
    now = ctx.now()
    ttl = timedelta(seconds=ctx.settings.nonce_seconds)
    value, expires = store.issue(now, ttl)
    domain, origin = _site(request, ctx)
    text = siwe.SiweMessage(
        domain=domain,
        address=address,
        statement=STATEMENT,
        uri=origin + "/",
        chain_id=ctx.chain_id,
        nonce=value,
        issued_at=now,
        expiration_time=expires,
    ).text()
    return {"message": text, "nonce": value, "expires_at": siwe.iso(expires)}


@router.post("/verify", summary="Check a signed sign-in message and start a session")
def verify(request: Request, response: Response, ctx: Ctx, body: VerifyRequest) -> dict[str, Any]:
    now = ctx.now()
    domain, origin = _site(request, ctx)
    try:
        parsed = siwe.parse(body.message)
        siwe.check(
            parsed,
            domain=domain,
            origin=origin,
            chain_id=ctx.chain_id,
            now=now,
            max_age=timedelta(seconds=ctx.settings.nonce_seconds),
        )
        signer = siwe.recover(body.message, body.signature)
    except siwe.SiweError as exc:
        # Every refusal is 401, a message that does not parse too: sign-in failed.
        raise Problem(401, exc.code, str(exc)) from None
    if signer != parsed.address:
        raise Problem(
            401, "bad_signature", f"the message is signed by {signer}, not {parsed.address}"
        )
    store: NonceStore = request.app.state.nonces
    sessions: Sessions = request.app.state.sessions
    # Last: a refused message does not burn the nonce.
    store.consume(parsed.nonce, now, now + timedelta(seconds=sessions.max_age))
    sessions.start(response, parsed.address, ctx.chain_id, parsed.nonce)
    # Every page a member opens next needs their VP: read the stake once, now.
    grant = ctx.allowance_of(parsed.address)
    return {"address": parsed.address, "chain_id": ctx.chain_id, "vp": str(grant.vp)}


@router.get("/session", summary="Who is signed in")
def session(member: MaybeMember) -> dict[str, Any]:
    return {"address": member}


@router.post("/logout", summary="End the session (for every copy of its cookie)")
def logout(request: Request, response: Response) -> dict[str, Any]:
    sessions: Sessions = request.app.state.sessions
    sessions.end(request, response)
    return {"address": None}
