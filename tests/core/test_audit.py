import copy

import pytest
from eth_account import Account

from tastemaker.core.audit import RECORD_FORMAT, RecordError, record_commitment, verify_record
from tastemaker.core.ballots import Vote, VoteDomain, sign_vote
from tastemaker.core.outcome import reward_epoch, round_outcome
from tastemaker.core.voting_power import Allowance

KEYS = ["0x" + f"{i:02x}" * 32 for i in range(1, 4)]
ADDR = [Account.from_key(k).address for k in KEYS]
DOMAIN = VoteDomain(31337, "0x" + "ab" * 20)
W = [bytes([i]) * 32 for i in range(1, 4)]
# C has no stake: the baseline VP lets them vote, but they earn nothing.
RULES = {"prior_exposure": 5, "vp_curve": "linear", "baseline_vp": "100", "min_stake_to_earn": "1"}
STAKE = {ADDR[0]: 100, ADDR[1]: 100, ADDR[2]: 0}


def _record() -> dict:
    plan = [(0, W[0], 1, 40, 1), (0, W[1], -1, 20, 2), (1, W[0], 1, 30, 1), (2, W[2], 1, 90, 1)]
    entries, votes = [], []
    for who, work, direction, amount, nonce in plan:
        vote = Vote(ADDR[who], 4, work, direction, amount, nonce)
        votes.append(vote)
        entries.append(
            {
                "id": "0x" + vote.digest(DOMAIN).hex(),
                "message": vote.message_json(),
                "signature": "0x" + sign_vote(vote, DOMAIN, KEYS[who]).hex(),
            }
        )
    allowances = {
        ADDR[0]: Allowance(100, True),
        ADDR[1]: Allowance(100, True),
        ADDR[2]: Allowance(100, False),
    }
    impressions = {W[0]: 12, W[1]: 8, W[2]: 40}
    outcome = round_outcome(W, votes, impressions, allowances, prior_exposure=5)
    epoch = reward_epoch(10**18, outcome.reward_weights, {ADDR[0]: 5}, {ADDR[0]: 0})
    return _committed(
        {
            "format": RECORD_FORMAT,
            "round": 4,
            "domain": DOMAIN.to_json(),
            "rules": dict(RULES),
            "window": {"open_block": 10, "close_block": 20},
            "pool": ["0x" + w.hex() for w in W],
            "impressions": {"0x" + w.hex(): n for w, n in impressions.items()},
            "allowances": {
                a: {"min_stake": str(STAKE[a]), "vp": str(v.vp), "earns_rewards": v.earns_rewards}
                for a, v in allowances.items()
            },
            "votes": entries,
            "tally": [row.to_json() for row in outcome.tally],
            "winner": "0x" + outcome.winner.hex(),
            "rewards": {
                "pool": str(10**18),
                "previous_cumulative": {ADDR[0]: "5"},
                "previous_indexes": {ADDR[0]: 0},
                "shares": {a: str(v) for a, v in epoch.shares.items()},
                "cumulative": {a: str(v) for a, v in epoch.cumulative.items()},
                "indexes": epoch.indexes,
                "root": "0x" + epoch.root.hex(),
            },
        }
    )


def _committed(record: dict) -> dict:
    """``record`` with the winner's token metadata committing to its votes and inputs."""
    pool = [bytes.fromhex(w[2:]) for w in record["pool"]]
    impressions = {bytes.fromhex(w[2:]): n for w, n in record["impressions"].items()}
    commitment = record_commitment(record, pool, impressions)
    record["token_metadata"] = {
        "name": "round 4",
        "attributes": [
            {"trait_type": "round", "value": record["round"]},
            {"trait_type": "content hash", "value": record["winner"]},
            *commitment.attributes(),
        ],
    }
    return record


def test_an_honest_record_verifies() -> None:
    record = _record()
    report = verify_record(record)
    assert report.ok, report.checks
    assert record["winner"] == "0x" + W[0].hex()  # 70 VP over 12 views beats 90 over 40
    # A spent 60 VP, B 30, C's stake does not earn: 2/3 and 1/3, the odd wei to A
    assert record["rewards"]["shares"] == {
        ADDR[0]: "666666666666666667",
        ADDR[1]: "333333333333333333",
    }
    assert record["rewards"]["indexes"] == {ADDR[0]: 0, ADDR[1]: 1}  # A kept 0, B appended


def _failed(record) -> set[str]:
    return {c.name for c in verify_record(record).checks if not c.ok}


def test_tampering_is_caught_where_it_happens() -> None:
    forged = _record()
    forged["votes"][3]["message"]["amount"] = "95"
    assert "signatures" in _failed(forged)

    inflated = _record()
    inflated["impressions"]["0x" + W[0].hex()] = 400
    assert {"tally", "winner"} <= _failed(inflated)

    greedy = _record()
    greedy["rewards"]["shares"][ADDR[1]] = str(5 * 10**17)
    assert _failed(greedy) == {"reward shares"}

    rerooted = _record()
    rerooted["rewards"]["root"] = "0x" + "00" * 32
    assert _failed(rerooted) == {"merkle root"}

    dropped = _record()
    del dropped["allowances"][ADDR[1]]
    assert "allowances" in _failed(dropped)


def _reindexed(record: dict, indexes: dict[str, int]) -> dict:
    """``record`` with its leaf indexes replaced and the root recomputed to match."""
    from tastemaker.core.merkle import RewardTree

    rewards = record["rewards"]
    cumulative = {a: int(v) for a, v in rewards["cumulative"].items()}
    rewards["indexes"] = indexes
    rewards["root"] = "0x" + RewardTree.build(cumulative, indexes).root.hex()
    return record


def test_reassigned_leaf_indexes_are_caught() -> None:
    # A old account moved to another index (with a root built to match): the indexes
    # and the root both disagree with the rule.
    swapped = _reindexed(_record(), {ADDR[0]: 1, ADDR[1]: 0})
    assert _failed(swapped) == {"leaf indexes", "merkle root"}

    # A new account given an index with a gap.
    gapped = _reindexed(_record(), {ADDR[0]: 0, ADDR[1]: 5})
    assert _failed(gapped) == {"leaf indexes", "merkle root"}

    # Previous indexes that are not 0..n-1, or that name other accounts than the totals.
    bad_previous = _record()
    bad_previous["rewards"]["previous_indexes"] = {ADDR[0]: 3}
    assert _failed(bad_previous) == {"leaf indexes"}
    other_previous = _record()
    other_previous["rewards"]["previous_indexes"] = {ADDR[2]: 0}
    assert _failed(other_previous) == {"leaf indexes"}


def test_malformed_records_are_refused() -> None:
    with pytest.raises(
        RecordError, match=r"not a tastemaker-round/3 record.*export the round again"
    ):
        verify_record({"format": "other"})
    broken = copy.deepcopy(_record())
    del broken["pool"]
    with pytest.raises(RecordError, match="malformed round record"):
        verify_record(broken)


def _epoch(number: int, before: dict[str, int], after: dict[str, int]) -> dict:
    def indexes(totals: dict[str, int]) -> dict[str, int]:
        return {a: i for i, a in enumerate(totals)}

    return {
        "rewards": {
            "epoch": number,
            "previous_cumulative": {a: str(v) for a, v in before.items()},
            "previous_indexes": indexes(before),
            "cumulative": {a: str(v) for a, v in after.items()},
            "indexes": indexes(after),
        }
    }


def test_a_run_of_records_must_chain_epoch_to_epoch() -> None:
    from tastemaker.core.audit import verify_history

    one = _epoch(1, {}, {"0xa": 5})
    two = _epoch(2, {"0xa": 5}, {"0xa": 7, "0xb": 1})
    three = _epoch(3, {"0xa": 7, "0xb": 1}, {"0xa": 9, "0xb": 1})
    unsold = {"rewards": None}
    assert all(c.ok for c in verify_history([three, unsold, one, two]))

    def failing(records: list[dict]) -> list[str]:
        return [c.name + ": " + c.detail for c in verify_history(records) if not c.ok]

    forged = _epoch(3, {"0xa": 70, "0xb": 1}, {"0xa": 72, "0xb": 1})  # inflated history
    assert failing([one, two, forged]) == [
        "epoch 3 follows on: its previous totals or indexes are not those of epoch 2"
    ]
    assert failing([one, three]) == ["epoch 3 follows on: the record of epoch 2 is missing"]
    assert failing([_epoch(1, {"0xa": 1}, {"0xa": 2})]) == [
        "epoch 1 follows on: epoch 1 claims earlier rewards"
    ]
    assert failing([one, one]) == ["epoch 1: two records claim this epoch"]


def _bias_record() -> dict:
    """``_record()`` counted by the member-bias rule, with its votes to flip."""
    from tastemaker.core.estimate import BiasModel

    record = _record()
    record["rules"] = RULES | {"tally": "member-bias"} | BiasModel().to_json()
    votes = [Vote.from_json(e["message"]) for e in record["votes"]]
    allowances = {
        a: Allowance(int(v["vp"]), v["earns_rewards"]) for a, v in record["allowances"].items()
    }
    impressions = {bytes.fromhex(w[2:]): n for w, n in record["impressions"].items()}
    outcome = round_outcome(W, votes, impressions, allowances, rules=record["rules"])
    record["tally"] = [row.to_json() for row in outcome.tally]
    record["winner"] = "0x" + outcome.winner.hex()
    record["votes_to_flip"] = outcome.votes_to_flip().to_json()
    return _committed(record)


def test_a_member_bias_record_verifies_with_its_votes_to_flip() -> None:
    record = _bias_record()
    report = verify_record(record)
    assert report.ok, report.checks
    assert {c.name for c in report.checks} >= {"tally", "winner", "votes to flip"}
    assert record["votes_to_flip"]["count"] >= 1


def test_a_tally_or_votes_to_flip_that_does_not_recompute_fails() -> None:
    wrong_score = _bias_record()
    wrong_score["tally"][0]["score"] = "1/1"
    assert "tally" in _failed(wrong_score)

    wrong_count = _bias_record()
    wrong_count["votes_to_flip"]["count"] += 5
    assert _failed(wrong_count) == {"votes to flip"}

    wrong_removed = _bias_record()
    wrong_removed["votes_to_flip"]["removed"] = []
    assert _failed(wrong_removed) == {"votes to flip"}

    missing = _bias_record()
    del missing["votes_to_flip"]
    assert _failed(missing) == {"votes to flip"}

    # A record that swaps the rule back to the old one: its published tally no longer
    # follows from its rules.
    swapped = _bias_record()
    swapped["rules"]["tally"] = "exposure"
    assert {"tally"} <= _failed(swapped)


def _recounted(record: dict) -> dict:
    """``record`` with its tally, winner and rewards recomputed from its own votes and
    allowances (a forger's consistent edit), the token metadata left as minted."""
    votes = [Vote.from_json(e["message"]) for e in record["votes"]]
    allowances = {
        a: Allowance(int(v["vp"]), v["earns_rewards"]) for a, v in record["allowances"].items()
    }
    impressions = {bytes.fromhex(w[2:]): n for w, n in record["impressions"].items()}
    outcome = round_outcome(W, votes, impressions, allowances, rules=record["rules"])
    record["tally"] = [row.to_json() for row in outcome.tally]
    record["winner"] = "0x" + outcome.winner.hex()
    rewards = record["rewards"]
    epoch = reward_epoch(10**18, outcome.reward_weights, {ADDR[0]: 5}, {ADDR[0]: 0})
    rewards["shares"] = {a: str(v) for a, v in epoch.shares.items()}
    rewards["cumulative"] = {a: str(v) for a, v in epoch.cumulative.items()}
    rewards["indexes"] = epoch.indexes
    rewards["root"] = "0x" + epoch.root.hex()
    return record


def _detail(record: dict, name: str) -> str:
    return next(c.detail for c in verify_record(record).checks if c.name == name)


def test_a_record_that_drops_votes_fails_on_the_commitment_alone() -> None:
    dropped = _record()
    del dropped["votes"][1]  # A's down vote on W[1]: the tally and rewards still add up
    _recounted(dropped)
    assert _failed(dropped) == {"vote set commitment"}
    assert "record's 3 votes give root" in _detail(dropped, "vote set commitment")
    assert "commits to 4 votes" in _detail(dropped, "vote set commitment")

    widened = _record()
    widened["window"]["close_block"] = 25  # a window where someone staked more
    assert _failed(widened) == {"vote set commitment"}
    assert "close block differ" in _detail(widened, "vote set commitment")

    no_metadata = _record()
    no_metadata["token_metadata"] = None
    assert _failed(no_metadata) == {"vote set commitment"}

    stripped = _record()
    stripped["token_metadata"]["attributes"] = stripped["token_metadata"]["attributes"][:3]
    assert "lacks" in _detail(stripped, "vote set commitment")

    other_work = _record()
    other_work["token_metadata"]["attributes"][1]["value"] = "0x" + W[2].hex()
    assert _failed(other_work) == {"token metadata names the winner"}


def test_voting_power_must_follow_from_the_stated_stake() -> None:
    raised = _record()
    raised["allowances"][ADDR[1]]["vp"] = str(999_999)
    assert "voting power from stake" in _failed(raised)
    assert "min_stake 100 gives vp 100" in _detail(raised, "voting power from stake")
    # Raising the stake with it is consistent on paper: only the chain can tell.
    both = _record()
    both["allowances"][ADDR[1]] |= {"min_stake": "999999", "vp": "999999"}
    assert "voting power from stake" not in _failed(both)


def test_a_round_without_winner_lists_the_commitment_as_not_checked() -> None:
    from tastemaker.core.audit import AuditReport

    record = _record()
    record["votes"], record["tally"], record["rewards"] = [], [], None
    record["winner"] = None
    impressions = {bytes.fromhex(w[2:]): n for w, n in record["impressions"].items()}
    outcome = round_outcome(W, [], impressions, {}, rules=record["rules"])
    record["tally"] = [row.to_json() for row in outcome.tally]
    report = verify_record(record)
    assert isinstance(report, AuditReport)
    assert report.ok, report.checks
    assert [c.name for c in report.unchecked] == ["vote set commitment"]
