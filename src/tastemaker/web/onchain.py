"""What the pages read from the chain and the transactions they ask a wallet to send.

Transactions are prepared here (target, calldata, value) and signed by the member's
own wallet through ``eth_sendTransaction``: the server never holds a member's key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from web3 import Web3

from tastemaker.chain.client import AuctionState, ChainClient
from tastemaker.rounds.service import ClaimData


def tx_json(to: str, data: str, value: int, chain_id: int, sender: str) -> dict[str, Any]:
    """The parameter object of ``eth_sendTransaction`` (quantities as hex, per EIP-1474)."""
    return {"from": sender, "to": to, "data": data, "value": hex(value), "chainId": hex(chain_id)}


def bid_tx(chain: ChainClient, token_id: int, amount: int, sender: str) -> dict[str, Any]:
    auction = chain.contract("auction")
    data = auction.functions.bid(token_id)._encode_transaction_data()
    return tx_json(auction.address, data, amount, chain.chain_id, sender)


def claim_tx(chain: ChainClient, claim: ClaimData, sender: str) -> dict[str, Any]:
    distributor = chain.contract("distributor")
    fn = distributor.functions.claim(
        claim.index, Web3.to_checksum_address(claim.account), claim.cumulative, list(claim.proof)
    )
    return tx_json(distributor.address, fn._encode_transaction_data(), 0, chain.chain_id, sender)


def utc_iso(chain_time: int) -> str:
    """A chain timestamp (Unix seconds) as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(chain_time, UTC).isoformat(timespec="seconds")


def auction_json(state: AuctionState, now: int) -> dict[str, Any]:
    return {
        "token_id": state.token_id,
        "start_time": state.start_time,
        "end_time": state.end_time,
        "seconds_left": max(state.end_time - now, 0) if not state.settled else 0,
        "reserve_price": str(state.reserve_price),
        "min_increment_bps": state.min_increment_bps,
        "time_buffer": state.time_buffer,
        "settled": state.settled,
        "ended": now >= state.end_time,
        "bidder": state.bidder,
        "amount": str(state.amount),
        "min_next_bid": str(state.min_next_bid()),
    }


def bid_history(chain: ChainClient, token_id: int, from_block: int = 0) -> list[dict[str, Any]]:
    """Every bid on ``token_id`` from the auction house's ``AuctionBid`` events, newest first."""
    event = chain.contract("auction").events.AuctionBid()
    logs = event.get_logs(from_block=from_block, argument_filters={"token_id": token_id})
    times: dict[int, int] = {}
    bids = []
    for log in logs:
        block = int(log["blockNumber"])
        if block not in times:
            times[block] = chain.block_timestamp(block)
        bids.append(
            {
                "bidder": log["args"]["bidder"],
                "amount": str(log["args"]["amount"]),
                "extended": bool(log["args"]["extended"]),
                "block": block,
                "time": times[block],
                "tx_hash": "0x" + bytes(log["transactionHash"]).hex(),
            }
        )
    return sorted(bids, key=lambda b: (b["block"], int(b["amount"])), reverse=True)
