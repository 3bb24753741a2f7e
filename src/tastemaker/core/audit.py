"""Verify a round from its public record alone.

A record (``tastemaker export``) holds the round's domain, rules, pool, impression
counts, every signed vote, each voter's final allowance, the published tally and
the reward epoch (with the leaf indexes before and after it). ``verify_record``
checks every signature, recomputes the tally and the rewards with the same rules the
service used (``core.outcome``), re-derives the leaf indexes (old accounts keep theirs,
new ones are appended in address order), rebuilds the Merkle root, and reports each
check. Comparing the root with the chain is the
caller's job (it needs a node); this module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tastemaker.core.ballots import BallotError, Vote, VoteDomain, verify_vote
from tastemaker.core.outcome import reward_epoch, round_outcome
from tastemaker.core.tally import rule_of
from tastemaker.core.voting_power import Allowance

# /2: leaves are (index, account, cumulative) and the rewards carry the leaf indexes.
RECORD_FORMAT = "tastemaker-round/2"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class AuditReport:
    round: int
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


def _flip_count(flip: Any) -> str:
    return str(flip.get("count")) if isinstance(flip, dict) else repr(flip)


def _hex32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class RecordError(ValueError):
    """The record is not a well-formed round record."""


def verify_record(record: dict[str, Any]) -> AuditReport:
    """Recompute the round from ``record``; every check lands in the report."""
    if record.get("format") != RECORD_FORMAT:
        raise RecordError(f"not a {RECORD_FORMAT} record (format: {record.get('format')!r})")
    try:
        return _verify(record)
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"malformed round record: {exc!r}") from exc


def _verify(record: dict[str, Any]) -> AuditReport:
    number = int(record["round"])
    report = AuditReport(number)
    domain = VoteDomain(int(record["domain"]["chainId"]), record["domain"]["verifyingContract"])

    votes, bad = [], []
    for entry in record["votes"]:
        try:
            vote = Vote.from_json(entry["message"])
            vote_id = verify_vote(vote, domain, entry["signature"])
            if vote.round != number or "0x" + vote_id.hex() != entry["id"]:
                raise BallotError("round or id does not match")
            votes.append(vote)
        except BallotError as exc:
            bad.append(f"{entry.get('id', '?')}: {exc}")
    report.add(
        "signatures",
        not bad,
        f"{len(votes)} signed votes verify" if not bad else "; ".join(bad[:5]),
    )

    pool = [_hex32(w) for w in record["pool"]]
    impressions = {_hex32(w): int(n) for w, n in record["impressions"].items()}
    allowances = {
        a: Allowance(int(v["vp"]), bool(v["earns_rewards"]))
        for a, v in record["allowances"].items()
    }
    unknown = {v.voter for v in votes} - allowances.keys()
    report.add(
        "allowances",
        not unknown,
        f"voters without an allowance: {sorted(unknown)}"
        if unknown
        else f"{len(allowances)} voters",
    )
    for voter in unknown:
        allowances[voter] = Allowance(0, False)

    outcome = round_outcome(pool, votes, impressions, allowances, rules=record["rules"])
    published = record["tally"]
    recomputed = [row.to_json() for row in outcome.tally]
    report.add(
        "tally",
        recomputed == published,
        f"{len(recomputed)} works ranked" if recomputed == published else "tally differs",
    )
    winner = "0x" + outcome.winner.hex() if outcome.winner else None
    report.add("winner", winner == record.get("winner"), f"winner {winner}")
    if "votes_to_flip" in record or rule_of(record["rules"]) != "exposure":
        # Rounds counted since decision 0030 publish how close the vote was.
        flip = outcome.votes_to_flip()
        recomputed_flip = flip.to_json() if flip else None
        ok = recomputed_flip == record.get("votes_to_flip")
        report.add(
            "votes to flip",
            ok,
            (f"{flip.count} votes" if flip else "no winner")
            if ok
            else f"published {_flip_count(record.get('votes_to_flip'))}, recomputed "
            f"{_flip_count(recomputed_flip)}",
        )

    rewards = record.get("rewards")
    if rewards is not None:
        previous = {a: int(v) for a, v in rewards["previous_cumulative"].items()}
        previous_indexes = {a: int(v) for a, v in rewards["previous_indexes"].items()}
        if previous_indexes.keys() != previous.keys():
            report.add("leaf indexes", False, "previous indexes and totals name other accounts")
            return report
        try:
            epoch = reward_epoch(
                int(rewards["pool"]), outcome.reward_weights, previous, previous_indexes
            )
        except ValueError as exc:
            report.add("leaf indexes", False, str(exc))
            return report
        shares = {a: str(v) for a, v in epoch.shares.items()}
        report.add(
            "reward shares",
            shares == rewards["shares"],
            f"{len(shares)} voters share {epoch.distributed} wei",
        )
        cumulative = {a: str(v) for a, v in epoch.cumulative.items()}
        report.add("cumulative totals", cumulative == rewards["cumulative"])
        indexes = {a: int(v) for a, v in rewards["indexes"].items()}
        report.add(
            "leaf indexes",
            indexes == epoch.indexes,
            f"{len(previous_indexes)} kept, {len(epoch.indexes) - len(previous_indexes)} new"
            if indexes == epoch.indexes
            else "indexes differ from the previous ones plus new accounts in address order",
        )
        root = "0x" + epoch.root.hex()
        report.add("merkle root", root == rewards["root"], root)
    return report


def verify_history(records: list[dict[str, Any]]) -> list[Check]:
    """Checks across rounds: each reward epoch starts from the previous one's totals.

    One record proves its own epoch from the totals it says came before; a run of
    records proves those claims too: epoch 1 starts from nothing, and epoch N's
    previous totals and leaf indexes are exactly epoch N-1's. Records without a
    reward epoch (no sale yet) are skipped; a missing epoch is reported.
    """
    epochs: dict[int, dict[str, Any]] = {}
    checks: list[Check] = []
    for record in records:
        rewards = record.get("rewards")
        if rewards is None:
            continue
        epoch = int(rewards["epoch"])
        if epoch in epochs:
            checks.append(Check(f"epoch {epoch}", False, "two records claim this epoch"))
            continue
        epochs[epoch] = rewards
    for epoch in sorted(epochs):
        rewards = epochs[epoch]
        before = epochs.get(epoch - 1)
        if epoch == 1:
            ok = not rewards["previous_cumulative"] and not rewards["previous_indexes"]
            detail = "starts from no rewards" if ok else "epoch 1 claims earlier rewards"
        elif before is None:
            ok, detail = False, f"the record of epoch {epoch - 1} is missing"
        else:
            ok = (
                rewards["previous_cumulative"] == before["cumulative"]
                and rewards["previous_indexes"] == before["indexes"]
            )
            detail = (
                f"continues epoch {epoch - 1}"
                if ok
                else f"its previous totals or indexes are not those of epoch {epoch - 1}"
            )
        checks.append(Check(f"epoch {epoch} follows on", ok, detail))
    return checks
