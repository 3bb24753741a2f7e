"""Check a round record's facts against the chain: the chain is the truth.

``core.audit.verify_record`` proves a record consistent with itself. This module
proves its facts are the chain's (docs/decisions/0051):

- the winner's token: minted for the winner's content hash, metadata frozen, and the
  token URI is the CID of the record's token metadata, which carries the round
  commitment (every vote id, the block window, pool, impressions and rules);
- each voter's minimum stake over the committed window, read from the staking
  contract (the rule the tally used), is the record's ``min_stake``;
- the auction house's result for the token (settled, winner, amount, the voters'
  share) is the record's; a settled sale whose voters earn needs a reward epoch;
- the distributor: the epoch's posted root and total, the previous epoch's root
  rebuilt from the record's previous totals, the reward pool against what the
  auction house sent it, and claims within what it received and what the root gives.

Reads only, through ``ChainClient``. Every check names what differs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from tastemaker.chain.client import ChainClient
from tastemaker.core.audit import AuditReport, Check
from tastemaker.core.merkle import RewardTree
from tastemaker.store.media import cid_for_bytes

ZERO = "0x0000000000000000000000000000000000000000"


def _same_address(a: object, b: object) -> bool:
    return str(a or ZERO).lower() == str(b or ZERO).lower()


def check_against_chain(record: dict[str, Any], report: AuditReport, chain: ChainClient) -> None:
    """Add to ``report`` one check per fact of ``record`` the chain holds."""
    deployment = chain.deployment
    report.add(
        "vote domain",
        _same_address(record["domain"]["verifyingContract"], deployment.addresses["works"]),
        f"votes are bound to {record['domain']['verifyingContract']}; the deployment's "
        f"works contract is {deployment.addresses['works']}",
    )
    token_id = _check_token(record, report, chain)
    _check_stakes(record, report, chain)
    settlement = _check_auction(record, report, chain, token_id)
    _check_rewards(record, report, chain, settlement)


# ----------------------------------------------------------------------------- token


def _check_token(record: dict[str, Any], report: AuditReport, chain: ChainClient) -> int | None:
    winner = record.get("winner")
    if winner is None:
        ok = record.get("token_id") is None
        report.add("winner's token", ok, "no winner, no token" if ok else "a token without winner")
        return None
    content = bytes.fromhex(str(winner).removeprefix("0x"))
    token_id = chain.token_of_content(content)
    if not token_id or token_id != record.get("token_id"):
        report.add(
            "winner's token",
            False,
            f"the chain has token {token_id or 'none'} for {winner}; "
            f"the record says {record.get('token_id')}",
        )
        return token_id or None
    works = chain.contract("works").functions
    frozen = bool(works.metadata_frozen(token_id).call())
    report.add("winner's token", True, f"token {token_id} holds {winner}")
    uri = chain.token_uri(token_id)
    metadata = record.get("token_metadata")
    if not isinstance(metadata, dict):
        report.add("token metadata on chain", False, f"the record has none; the URI is {uri}")
        return token_id
    # The canonical serialisation WorkMetadata.to_bytes mints with.
    canonical = json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()
    mine = f"ipfs://{cid_for_bytes(canonical)}"
    ok = mine == uri and frozen
    detail = f"token URI {uri}, frozen" if ok else f"the chain's token URI is {uri}"
    if mine != uri:
        detail += f"; the record's metadata hashes to {mine}: it is not the minted metadata"
    elif not frozen:
        detail += ", but the metadata is not frozen (its auction never started)"
    report.add("token metadata on chain", ok, detail)
    return token_id


# ----------------------------------------------------------------------------- stake


def _check_stakes(record: dict[str, Any], report: AuditReport, chain: ChainClient) -> None:
    window = record["window"]
    start, end = int(window["open_block"]), int(window["close_block"])
    allowances = record["allowances"]
    stakes = chain.min_stakes_between(sorted(allowances), start, end)
    wrong = [
        f"{account}: the record says min_stake {entry['min_stake']}, "
        f"the staking contract {stakes.get(account, 0)}"
        for account, entry in sorted(allowances.items())
        if int(entry["min_stake"]) != stakes.get(account, 0)
    ]
    report.add(
        "stakes on chain",
        not wrong,
        "; ".join(wrong[:3]) + (f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else "")
        if wrong
        else f"{len(allowances)} voters' minimum stake over blocks {start}-{end}",
    )


# ----------------------------------------------------------------------------- auction


def _settled_log(chain: ChainClient, token_id: int) -> Any | None:
    auction = chain.contract("auction")
    logs = auction.events.AuctionSettled().get_logs(
        from_block=chain.deployment.block, argument_filters={"token_id": token_id}
    )
    return logs[0] if logs else None


def _check_auction(
    record: dict[str, Any], report: AuditReport, chain: ChainClient, token_id: int | None
) -> dict[str, int] | None:
    """The settlement on chain (to_distributor, block) if the token's auction settled."""
    stated = record.get("auction")
    if token_id is None:
        ok = stated is None and record.get("rewards") is None
        report.add("auction on chain", ok, "no token, no sale" if ok else "a sale without a token")
        return None
    state = chain.auction(token_id)
    if not state.settled:
        ok = stated is not None and stated.get("state") != "settled"
        report.add(
            "auction on chain",
            ok and record.get("rewards") is None,
            f"token {token_id}'s auction is not settled on chain"
            + ("" if ok else "; the record says it is (or has no auction)")
            + ("" if record.get("rewards") is None else "; yet the record has rewards"),
        )
        return None
    log = _settled_log(chain, token_id)
    to_distributor = int(log["args"]["to_distributor"]) if log is not None else 0
    chain_view = {
        "state": "settled",
        "winner": state.bidder,
        "amount": state.amount,
        "voter_pool": to_distributor,
    }
    if not isinstance(stated, dict):
        report.add(
            "auction on chain",
            False,
            f"token {token_id} sold for {state.amount} wei ({to_distributor} to voters), "
            "but the record has no auction result",
        )
    else:
        differs = []
        if stated.get("state") != "settled":
            differs.append(f"state: record {stated.get('state')!r}, chain settled")
        if not _same_address(stated.get("winner"), state.bidder):
            differs.append(f"winner: record {stated.get('winner')}, chain {state.bidder}")
        for key in ("amount", "voter_pool"):
            if str(stated.get(key)) != str(chain_view[key]):
                differs.append(f"{key}: record {stated.get(key)} wei, chain {chain_view[key]} wei")
        report.add(
            "auction on chain",
            not differs,
            "; ".join(differs)
            if differs
            else f"token {token_id} sold for {state.amount} wei, {to_distributor} to voters",
        )
    block = int(log["blockNumber"]) if log is not None else chain.block_number()
    return {"to_distributor": to_distributor, "block": block}


# ----------------------------------------------------------------------------- rewards


def _root_posts(chain: ChainClient) -> dict[int, tuple[bytes, int]]:
    """epoch -> (root, total) of its newest post (a vetoed epoch is posted again)."""
    distributor = chain.contract("distributor")
    posts: dict[int, tuple[bytes, int]] = {}
    for log in distributor.events.RootPosted().get_logs(from_block=chain.deployment.block):
        posts[int(log["args"]["epoch"])] = (bytes(log["args"]["root"]), int(log["args"]["total"]))
    return posts


def _sent_to_voters(chain: ChainClient, up_to_block: int) -> int:
    """What settled auctions sent the distributor up to ``up_to_block``."""
    auction = chain.contract("auction")
    return sum(
        int(log["args"]["to_distributor"])
        for log in auction.events.AuctionSettled().get_logs(
            from_block=chain.deployment.block, to_block=up_to_block
        )
    )


def _check_rewards(
    record: dict[str, Any],
    report: AuditReport,
    chain: ChainClient,
    settlement: dict[str, int] | None,
) -> None:
    rewards = record.get("rewards")
    if rewards is None:
        paid = settlement["to_distributor"] if settlement else 0
        if paid and report.reward_weights:
            report.add(
                "rewards on chain",
                False,
                f"the auction paid {paid} wei to the distributor for "
                f"{len(report.reward_weights)} voters who earn, but the record has no rewards",
            )
        elif paid:
            report.add(
                "rewards on chain",
                True,
                f"no voter earns: the {paid} wei wait in the distributor for a later epoch",
            )
        return
    if settlement is None:
        return  # _check_auction already failed: rewards without a settled sale
    epoch = int(rewards["epoch"])
    distributor = chain.contract("distributor").functions
    posts = _root_posts(chain)
    posted = bytes(distributor.roots(epoch).call())
    root, total = rewards["root"], sum(int(v) for v in rewards["cumulative"].values())
    post = posts.get(epoch)
    differs = []
    if "0x" + posted.hex() != root:
        differs.append(f"root: record {root}, chain 0x{posted.hex()}")
    if post is None:
        differs.append(f"no root posted for epoch {epoch}")
    elif post[1] != total:
        differs.append(f"total: record {total} wei, posted {post[1]} wei")
    report.add(
        "root on chain",
        not differs,
        "; ".join(differs) if differs else f"epoch {epoch}: {root}, total {total} wei",
    )

    previous = {a: int(v) for a, v in rewards["previous_cumulative"].items()}
    if epoch > 1:
        rebuilt = (
            RewardTree.build(previous, rewards["previous_indexes"]).root if previous else bytes(32)
        )
        before = bytes(distributor.roots(epoch - 1).call())
        report.add(
            "previous epoch on chain",
            rebuilt == before,
            f"epoch {epoch - 1}: 0x{before.hex()}"
            if rebuilt == before
            else f"the record's previous totals give root 0x{rebuilt.hex()}, "
            f"epoch {epoch - 1} on chain is 0x{before.hex()}",
        )
    # Each epoch shares what the auctions sent and earlier epochs did not give out.
    earlier = posts[epoch - 1][1] if epoch > 1 and epoch - 1 in posts else sum(previous.values())
    expected_pool = _sent_to_voters(chain, settlement["block"]) - earlier
    received = int(distributor.received().call())
    pool = int(rewards["pool"])
    ok = pool == expected_pool and total <= received
    report.add(
        "distributor funds",
        ok,
        f"pool {pool} wei of {received} wei received"
        if ok
        else f"the record's pool is {pool} wei; the auction house sent {expected_pool} wei "
        f"not yet given out; the distributor received {received} wei for a total of {total}",
    )
    _check_claims(rewards, report, chain, received, epoch)


def _check_claims(
    rewards: dict[str, Any], report: AuditReport, chain: ChainClient, received: int, epoch: int
) -> None:
    distributor = chain.contract("distributor")
    claimed: dict[int, int] = defaultdict(int)
    for log in distributor.events.Claimed().get_logs(from_block=chain.deployment.block):
        claimed[int(log["args"]["index"])] += int(log["args"]["amount"])
    paid = sum(claimed.values())
    problems = [] if paid <= received else [f"{paid} wei claimed of {received} wei received"]
    # What the newest root still owes must be in the contract, or claims revert.
    owed = int(distributor.functions.total().call()) - paid
    holds = chain.balance(distributor.address)
    if holds < owed:
        problems.append(
            f"the distributor holds {holds} wei but its newest root still owes {owed} wei: "
            "claims would revert"
        )
    newest = int(distributor.functions.epoch().call())
    if newest == epoch:  # later roots may give more; against this one only while newest
        by_index = {int(i): a for a, i in rewards["indexes"].items()}
        for index, amount in sorted(claimed.items()):
            allowed = int(rewards["cumulative"].get(by_index.get(index, ""), 0))
            if amount > allowed:
                problems.append(f"index {index} claimed {amount} wei, its leaf holds {allowed}")
    report.add(
        "claims on chain",
        not problems,
        "; ".join(problems[:3])
        if problems
        else f"{paid} wei claimed by {len(claimed)} accounts"
        + ("" if newest == epoch else f" (against epoch {newest}'s root, newer than this)"),
    )


# ----------------------------------------------------------------------------- history


def check_tokens_accounted(records: list[dict[str, Any]], chain: ChainClient) -> Check:
    """Across records: every token minted up to the newest one a record names is some
    record's winner. Tokens are minted in round order, so a record that claims "no
    winner" for a round that minted one leaves a gap (decision 0051)."""
    named = {int(r["token_id"]) for r in records if r.get("token_id") is not None}
    if not named:
        return Check("tokens on chain", True, "no record names a token", checked=False)
    works = chain.contract("works")
    minted = {
        int(log["args"]["token_id"]): "0x" + bytes(log["args"]["content_hash"]).hex()
        for log in works.events.WorkMinted().get_logs(from_block=chain.deployment.block)
    }
    newest = max(named)
    missing = sorted(t for t in minted if t <= newest and t not in named)
    return Check(
        "tokens on chain",
        not missing,
        f"tokens up to {newest}: each is a record's winner"
        if not missing
        else "; ".join(f"token {t} ({minted[t]}) is in no record" for t in missing[:3])
        + ": a record left out its winner, or its round's record was not given",
    )
