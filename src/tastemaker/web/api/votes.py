"""Signed votes: the typed data to sign, and intake of the signed message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Interval
from fastapi import APIRouter, Response
from pydantic import BaseModel, BeforeValidator, Field

from tastemaker.core.ballots import BallotError, Vote
from tastemaker.rounds.votes import vote_domain
from tastemaker.store.tables import Round
from tastemaker.web.deps import Cookie, Ctx, Db, Member, json_response, parse_hash
from tastemaker.web.hot import vote_answer
from tastemaker.web.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/votes", tags=["votes"], responses=PROBLEM_RESPONSES)
Uint = Annotated[str, Field(pattern=r"^[0-9]{1,77}$", description="A decimal uint256.")]
# A VP amount to spend: positive, below 10**77 (so below 2**256 too).
Amount = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,76}$", description="VP, decimal.")]
# As a JSON number, only what a JavaScript number (a double) holds exactly; larger
# values come as decimal strings.
SAFE_INT = 2**53 - 1


def _json_integer(value: Any) -> Any:
    """Integers as JSON Schema has them: a number without a fraction (3 or 3.0), never
    ``true`` (Python's bool is an int, and pydantic's lax mode takes it as 1) and never
    the string "3" (pydantic's lax mode again)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number without a fraction")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a JSON number without a fraction")
        return int(value)
    return value


Direction = Annotated[Literal[1, -1], BeforeValidator(_json_integer)]
Hash = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="A 32-byte hex hash.")]
Text = Annotated[str, Field(strict=True)]


class VoteIntent(BaseModel):
    round: Annotated[int, Interval(ge=1, lt=2**31), BeforeValidator(_json_integer)]
    work: Hash
    direction: Direction
    amount: Amount


class VoteMessage(BaseModel):
    voter: Annotated[Text, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
    round: Annotated[int, Interval(ge=0, lt=2**31), BeforeValidator(_json_integer)]
    work: Hash
    direction: Direction
    amount: Amount | Annotated[int, Interval(ge=1, le=SAFE_INT), BeforeValidator(_json_integer)]
    nonce: Uint | Annotated[int, Interval(ge=0, le=SAFE_INT), BeforeValidator(_json_integer)]


class SignedVote(BaseModel):
    message: VoteMessage
    signature: str = Field(
        pattern=r"^(0x)?[0-9a-fA-F]{130}$", description="0x-prefixed 65-byte signature."
    )


@router.post("/prepare", summary="The EIP-712 typed data for the member to sign")
def prepare(ctx: Ctx, session: Db, member: Member, intent: VoteIntent) -> dict[str, Any]:
    round_ = session.get(Round, intent.round)
    if round_ is None:
        raise Problem(404, "unknown_round", f"there is no round {intent.round}")
    # A millisecond clock as nonce: always newer than the member's earlier vote.
    nonce = int(ctx.now().timestamp() * 1000)
    try:
        vote = Vote(
            member,
            intent.round,
            parse_hash(intent.work),
            intent.direction,
            int(intent.amount),
            nonce,
        )
    except BallotError as exc:
        raise Problem(422, "malformed", str(exc)) from None
    domain = vote_domain(round_.chain_id, round_.verifying_contract)
    typed = vote.typed_data(domain)
    # uint256 as a decimal string: VP is in 18-decimal base units, past what a
    # JavaScript number holds exactly; wallets take strings for integer types.
    typed["message"]["amount"] = str(vote.amount)
    return {"typed_data": typed, "message": vote.message_json()}


@router.post(
    "",
    summary="Cast a signed vote (the signature must be the signed-in member's)",
    response_model=dict[str, Any],
)
async def cast(ctx: Ctx, who: Cookie, body: SignedVote) -> Response:
    # The ordinary vote is answered by web/hot.py before FastAPI (same work, same
    # answers); this route answers the rest and describes the API.
    message = body.message.model_dump()
    return json_response(await vote_answer(ctx, who, message, body.signature))
