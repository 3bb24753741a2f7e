"""The JSON API under ``/api``; its OpenAPI schema is served at ``/api/openapi.json``."""

from __future__ import annotations

from fastapi import APIRouter

from tastemaker.web.api import auth, dev, market, members, rounds, votes, works
from tastemaker.web.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api", responses=PROBLEM_RESPONSES)
# The voter's two hot routes first: FastAPI matches routes in order, one by one.
for module in (votes, rounds, auth, works, market, members, dev):
    router.include_router(module.router)


@router.get("/health", tags=["meta"], summary="Liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}
