"""Verify a round from its public record alone.

A record (``tastemaker export``) holds the round's domain, rules, pool, impression
counts, every signed vote, each voter's minimum stake and allowance, the published
tally, the winner's token metadata and the reward epoch (with the leaf indexes before
and after it). ``verify_record`` checks every signature, that each allowance follows
from its stake under the rules, recomputes the tally and the rewards with the same
rules the service used (``core.outcome``), re-derives the leaf indexes (old accounts
keep theirs, new ones are appended in address order), rebuilds the Merkle root, and
recomputes the round commitment (``core.commitment``: the vote-set root and the
other inputs) and compares it with the one in the token metadata. Whether that
metadata, the stakes, the auction and the root are the chain's is
``rounds.chain_check``'s job (it needs a node); this module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tastemaker.core.ballots import BallotError, Vote, VoteDomain, verify_vote
from tastemaker.core.commitment import RoundCommitment
from tastemaker.core.outcome import reward_epoch, round_outcome
from tastemaker.core.tally import rule_of
from tastemaker.core.voting_power import Allowance, VotingRules, allowance

# /2: leaves are (index, account, cumulative) and the rewards carry the leaf indexes.
# /3: the winner's token metadata with the round commitment (decision 0051).
RECORD_FORMAT = "tastemaker-round/3"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    checked: bool = True  # False: a fact this run could not check (listed, not failed)


@dataclass
class AuditReport:
    round: int
    checks: list[Check] = field(default_factory=list)
    # Who earns from this round's votes, recomputed (the chain check needs it).
    reward_weights: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def unchecked(self) -> list[Check]:
        return [c for c in self.checks if not c.checked]

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))

    def skip(self, name: str, why: str) -> None:
        self.checks.append(Check(name, True, why, checked=False))


def _flip_count(flip: Any) -> str:
    return str(flip.get("count")) if isinstance(flip, dict) else repr(flip)


def _hex32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class RecordError(ValueError):
    """The record is not a well-formed round record."""


def verify_record(record: dict[str, Any]) -> AuditReport:
    """Recompute the round from ``record``; every check lands in the report."""
    if record.get("format") != RECORD_FORMAT:
        raise RecordError(
            f"not a {RECORD_FORMAT} record (format: {record.get('format')!r}); "
            "records of older formats lack the round commitment: export the round again"
        )
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
    _check_allowances(report, record)
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
    report.reward_weights = dict(outcome.reward_weights)
    _check_commitment(report, record, pool, impressions)
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


def voting_rules(rules: dict[str, Any]) -> VotingRules:
    """The VP rules a record names (``RoundSettings.rules_json``)."""
    return VotingRules(
        curve=rules["vp_curve"],
        baseline_vp=int(rules["baseline_vp"]),
        min_stake_to_earn=int(rules["min_stake_to_earn"]),
    )


def _check_allowances(report: AuditReport, record: dict[str, Any]) -> None:
    """Each voter's VP and reward eligibility follow from their minimum stake (whether
    that stake is the chain's is ``rounds.chain_check``'s question)."""
    rules = voting_rules(record["rules"])
    wrong = []
    for account, entry in record["allowances"].items():
        stake = int(entry["min_stake"])
        expected = allowance(stake, rules)
        stated = (int(entry["vp"]), bool(entry["earns_rewards"]))
        if stated != (expected.vp, expected.earns_rewards):
            wrong.append(
                f"{account}: min_stake {stake} gives vp {expected.vp} "
                f"(earns: {expected.earns_rewards}), the record says vp {entry['vp']} "
                f"(earns: {entry['earns_rewards']})"
            )
    report.add(
        "voting power from stake",
        not wrong,
        "; ".join(wrong[:3]) if wrong else f"{len(record['allowances'])} follow the rules",
    )


def record_commitment(
    record: dict[str, Any], pool: list[bytes], impressions: dict[bytes, int]
) -> RoundCommitment:
    """The commitment recomputed from the record's own votes and inputs."""
    window = record["window"]
    return RoundCommitment.of(
        [_hex32(v["id"]) for v in record["votes"]],
        int(window["open_block"]),
        int(window["close_block"]),
        pool,
        impressions,
        record["rules"],
    )


def _check_commitment(
    report: AuditReport, record: dict[str, Any], pool: list[bytes], impressions: dict[bytes, int]
) -> None:
    """The record's votes and tally inputs are those the token metadata commits to."""
    name = "vote set commitment"
    metadata = record.get("token_metadata")
    if record.get("winner") is None:
        report.skip(name, "no winner was minted, so nothing on chain commits to this round")
        return
    if not isinstance(metadata, dict):
        report.add(name, False, "the record lacks the winner's token metadata (the commitment)")
        return
    try:
        committed = RoundCommitment.from_metadata(metadata)
    except (ValueError, TypeError) as exc:
        report.add(name, False, str(exc))
        return
    if committed is None:
        report.add(name, False, "the token metadata carries no round commitment")
        return
    mine = record_commitment(record, pool, impressions)
    differs = committed.differences(mine)
    if not differs:
        detail = f"{mine.votes_cast} votes, root {mine.votes_root}"
    elif "vote set root" in differs or "votes cast" in differs:
        detail = (
            f"the record's {mine.votes_cast} votes give root {mine.votes_root}; the token "
            f"commits to {committed.votes_cast} votes with root {committed.votes_root}: "
            "votes were dropped, added or altered"
        )
        others = [d for d in differs if d not in ("vote set root", "votes cast")]
        if others:
            detail += f"; also differs: {', '.join(others)}"
    else:
        detail = f"the record's {', '.join(differs)} differ from what the token commits to"
    report.add(name, not differs, detail)
    attributes = {
        a.get("trait_type"): a.get("value")
        for a in metadata.get("attributes") or []
        if isinstance(a, dict)
    }
    same_work = (
        attributes.get("content hash") == record["winner"]
        and attributes.get("round") == report.round
    )
    report.add(
        "token metadata names the winner",
        same_work,
        f"round {report.round}, {record['winner']}"
        if same_work
        else f"the metadata names round {attributes.get('round')!r}, work "
        f"{attributes.get('content hash')!r}",
    )


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
