"""The round commitment: a vote-set Merkle root and digests of the tally's inputs."""

import pytest
from eth_hash.auto import keccak

from tastemaker.core.commitment import (
    EMPTY_ROOT,
    RoundCommitment,
    vote_proof,
    vote_set_root,
    vote_set_tree,
)
from tastemaker.core.merkle import process_proof

IDS = [bytes([i]) * 32 for i in range(1, 8)]
W = [bytes([0xA0 + i]) * 32 for i in range(3)]


def _commitment(ids=IDS, close=20, impressions=None) -> RoundCommitment:
    shown = impressions if impressions is not None else {W[0]: 3, W[1]: 1}
    return RoundCommitment.of(ids, 10, close, W, shown, {"vp_curve": "linear"})


def test_the_root_covers_every_vote_in_any_order() -> None:
    assert vote_set_root([]) == EMPTY_ROOT
    assert vote_set_root(IDS) == vote_set_root(list(reversed(IDS)))
    assert vote_set_root(IDS[:-1]) != vote_set_root(IDS)
    with pytest.raises(ValueError, match="32 bytes"):
        vote_set_root([b"short"])


def test_each_vote_has_a_proof_of_inclusion() -> None:
    tree = vote_set_tree(IDS)

    for vote_id in IDS:
        assert process_proof(keccak(keccak(vote_id)), vote_proof(tree, vote_id)) == tree[0]
    with pytest.raises(KeyError, match="not in the vote set"):
        vote_proof(tree, bytes(32))


def test_metadata_round_trip_and_named_differences() -> None:
    mine = _commitment()
    metadata = {"attributes": [{"trait_type": "round", "value": 1}, *mine.attributes()]}
    assert RoundCommitment.from_metadata(metadata) == mine
    assert RoundCommitment.from_metadata({"attributes": []}) is None
    assert mine.differences(_commitment(IDS[:3])) == ["vote set root", "votes cast"]
    assert mine.differences(_commitment(close=21)) == ["close block"]
    assert mine.differences(_commitment(impressions={W[0]: 3})) == ["impressions digest"]
    with pytest.raises(ValueError, match="lacks"):
        RoundCommitment.from_metadata({"attributes": mine.attributes()[:2]})
    broken = mine.attributes()
    broken[1]["value"] = "7"
    with pytest.raises(ValueError, match="votes_cast is not a number"):
        RoundCommitment.from_metadata({"attributes": broken})
