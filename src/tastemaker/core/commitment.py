"""The round commitment: what a round's close fixes on chain about its inputs.

At close the service puts these values into the winner's token metadata, whose
content-addressed URI (``ipfs://<CID of the canonical JSON>``) the mint writes on
chain and the auction start freezes (docs/decisions/0051). A record then cannot drop
or alter a vote, an impression count, a pool entry, a rule or the round's block
window without its recomputed commitment differing from the token's:

- ``vote set root``: an OpenZeppelin-style standard Merkle root over the ids
  (EIP-712 typed-data hashes) of *every* vote received, counting or not (leaf =
  ``keccak256(keccak256(abi.encode(bytes32 id)))``, sorted-pair nodes), so a voter
  can also be shown a proof that their vote is in it; and ``votes cast``, their number;
- ``open block`` / ``close block``: the window the minimum stake is read over;
- ``pool digest``, ``impressions digest``, ``rules digest``: keccak256 of the pool in
  order, of the (work, count) pairs in work order, and of the rules' canonical JSON.

Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_hash.auto import keccak

from tastemaker.core.merkle import build_tree_from_leaves, proof_for_index

EMPTY_ROOT = bytes(32)

# Metadata attribute name -> field; the order they are written in.
ATTRIBUTES = {
    "vote set root": "votes_root",
    "votes cast": "votes_cast",
    "open block": "open_block",
    "close block": "close_block",
    "pool digest": "pool",
    "impressions digest": "impressions",
    "rules digest": "rules",
}
_NUMBERS = {"votes_cast", "open_block", "close_block"}


def _vote_leaf(vote_id: bytes) -> bytes:
    if len(vote_id) != 32:
        raise ValueError(f"a vote id has 32 bytes, got {len(vote_id)}")
    return keccak(keccak(vote_id))


def vote_set_tree(vote_ids: Iterable[bytes]) -> list[bytes]:
    """The node array of the vote-set tree (sorted leaves, as ``core.merkle``)."""
    leaves = sorted({_vote_leaf(v) for v in vote_ids})
    return build_tree_from_leaves(leaves) if leaves else [EMPTY_ROOT]


def vote_set_root(vote_ids: Iterable[bytes]) -> bytes:
    """The root over every vote id (zero for a round without votes)."""
    return vote_set_tree(vote_ids)[0]


def vote_proof(tree: Sequence[bytes], vote_id: bytes) -> list[bytes]:
    """Sibling hashes proving ``vote_id`` is in ``tree``; ``KeyError`` if it is not."""
    leaf = _vote_leaf(vote_id)
    try:
        position = tree.index(leaf, len(tree) // 2)
    except ValueError:
        raise KeyError(f"vote 0x{vote_id.hex()} is not in the vote set") from None
    return proof_for_index(tree, position)


def pool_digest(pool: Sequence[bytes]) -> bytes:
    return keccak(b"".join(pool))


def impressions_digest(impressions: Mapping[bytes, int]) -> bytes:
    return keccak(
        b"".join(work + int(n).to_bytes(32, "big") for work, n in sorted(impressions.items()))
    )


def rules_digest(rules: Mapping[str, Any]) -> bytes:
    return keccak(json.dumps(rules, sort_keys=True, separators=(",", ":")).encode())


@dataclass(frozen=True)
class RoundCommitment:
    votes_root: str
    votes_cast: int
    open_block: int
    close_block: int
    pool: str
    impressions: str
    rules: str

    @classmethod
    def of(
        cls,
        vote_ids: Sequence[bytes],
        open_block: int,
        close_block: int,
        pool: Sequence[bytes],
        impressions: Mapping[bytes, int],
        rules: Mapping[str, Any],
    ) -> RoundCommitment:
        return cls(
            votes_root="0x" + vote_set_root(vote_ids).hex(),
            votes_cast=len(set(vote_ids)),
            open_block=int(open_block),
            close_block=int(close_block),
            pool="0x" + pool_digest(pool).hex(),
            impressions="0x" + impressions_digest(impressions).hex(),
            rules="0x" + rules_digest(rules).hex(),
        )

    def attributes(self) -> list[dict[str, Any]]:
        """Token-metadata attributes (OpenSea style) carrying the commitment."""
        values = asdict(self)
        return [
            {"trait_type": name, "display_type": "number", "value": values[key]}
            if key in _NUMBERS
            else {"trait_type": name, "value": values[key]}
            for name, key in ATTRIBUTES.items()
        ]

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> RoundCommitment | None:
        """The commitment in token metadata; None if it carries none (minted before
        decision 0051); ``ValueError`` if it carries a broken one."""
        found: dict[str, Any] = {}
        for attribute in metadata.get("attributes") or []:
            if isinstance(attribute, dict) and attribute.get("trait_type") in ATTRIBUTES:
                found[ATTRIBUTES[attribute["trait_type"]]] = attribute.get("value")
        if not found:
            return None
        missing = sorted(set(ATTRIBUTES.values()) - found.keys())
        if missing:
            raise ValueError(f"the token metadata's commitment lacks {', '.join(missing)}")
        for key in _NUMBERS:
            if type(found[key]) is not int:
                raise ValueError(f"the token metadata's {key} is not a number")
        return cls(**found)

    def differences(self, other: RoundCommitment) -> list[str]:
        """Names of the fields where ``other`` differs, as written in the metadata."""
        mine, theirs = asdict(self), asdict(other)
        return [name for name, key in ATTRIBUTES.items() if mine[key] != theirs[key]]
