"""DEV wallets: refused unless the chain is the embedded development chain."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from web3.exceptions import ContractLogicError, Web3Exception

from tastemaker.chain.client import dev_account
from tastemaker.web import devwallet
from tastemaker.web.deps import Ctx
from tastemaker.web.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/dev", tags=["dev"], responses=PROBLEM_RESPONSES)


class RpcRequest(BaseModel):
    method: Literal[devwallet.METHODS]  # type: ignore[valid-type]
    params: list[Any] = Field(default_factory=list, max_length=4)


def _allowed(ctx: Ctx) -> None:
    if not ctx.dev_wallets:
        raise Problem(
            403,
            "dev_wallets_refused",
            "DEV wallets exist only on the embedded development chain",
        )


@router.get("/wallets", summary="DEV: the embedded chain's pre-funded test wallets")
def wallets(ctx: Ctx) -> dict[str, Any]:
    _allowed(ctx)
    items = []
    for i in devwallet.DEV_INDICES:
        address = dev_account(i).address
        items.append(
            {
                "index": i,
                "address": address,
                "staked": str(ctx.staked(address)),
                "vp": str(ctx.allowance_of(address).vp),
            }
        )
    return {"items": items, "warning": "DEV keys are public: never use them on a real network"}


@router.post("/wallets/{index}/rpc", summary="DEV: an EIP-1193 request answered by a test key")
def rpc(ctx: Ctx, index: int, body: RpcRequest) -> dict[str, Any]:
    _allowed(ctx)
    if index not in devwallet.DEV_INDICES:
        raise Problem(404, "unknown_wallet", f"there is no DEV wallet {index}")
    try:
        result = devwallet.handle(ctx.rounds.chain, dev_account(index), body.method, body.params)
    except ContractLogicError as exc:
        raise Problem(409, "transaction_reverted", f"the transaction reverted: {exc}") from None
    except (Web3Exception, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        # The wallet answered: with an EIP-1193 error (invalid params), as a wallet would.
        return {"error": {"code": -32602, "message": f"{body.method} failed: {exc}"}}
    return {"result": result}
