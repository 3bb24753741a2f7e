"""Merkle trees in OpenZeppelin's "standard" shape, for cumulative reward claims.

Matches ``StandardMerkleTree.of(values, ["uint256", "address", "uint256"])`` from
``@openzeppelin/merkle-tree`` over ``(index, account, cumulative amount)``: each leaf is
``keccak256(keccak256(abi.encode(index, account, amount)))``; leaves are sorted by hash
and laid out as a complete binary tree in one array (root at index 0, children of
``i`` at ``2i+1`` and ``2i+2``, leaves at the end in reverse order); an inner node
hashes its two children in sorted order. Any standard tool can therefore check the
proofs, and ``RewardDistributor.claim`` verifies them.

The index is the account's permanent slot in the distributor, which keeps the amount
already paid per index (two to a storage word). ``assign_indexes`` is the one rule
that gives them out: an account keeps its index forever; accounts new in an epoch
take the next indexes in ascending address order (the address as a number, i.e.
lowercase hex order), so anyone recomputes them from the previous epoch's indexes.

Pure: no I/O, nothing else of ours imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from eth_hash.auto import keccak

_ADDRESS_LEN = 20
_UINT256_MAX = 2**256 - 1


def _address_bytes(account: str) -> bytes:
    text = account[2:] if account.startswith(("0x", "0X")) else account
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"not a hex address: {account!r}") from None
    if len(raw) != _ADDRESS_LEN:
        raise ValueError(f"an address has 20 bytes, got {len(raw)}: {account!r}")
    return raw


def leaf_hash(index: int, account: str, amount: int) -> bytes:
    """The standard leaf: double keccak of ``abi.encode(uint256, address, uint256)``."""
    if not 0 <= index <= _UINT256_MAX:
        raise ValueError(f"index out of uint256 range: {index}")
    if not 0 <= amount <= _UINT256_MAX:
        raise ValueError(f"amount out of uint256 range: {amount}")
    encoded = (
        index.to_bytes(32, "big")
        + b"\x00" * 12
        + _address_bytes(account)
        + amount.to_bytes(32, "big")
    )
    return keccak(keccak(encoded))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """An inner node: keccak of the two children, smaller first (as MerkleProof does)."""
    return keccak(a + b) if a < b else keccak(b + a)


def process_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """The root reached from ``leaf`` by hashing in the proof's siblings."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify(root: bytes, index: int, account: str, amount: int, proof: Iterable[bytes]) -> bool:
    """Whether ``(index, account, amount)`` is a leaf of the tree with ``root``."""
    return process_proof(leaf_hash(index, account, amount), proof) == root


def assign_indexes(previous: Mapping[str, int], accounts: Iterable[str]) -> dict[str, int]:
    """Leaf indexes after an epoch: ``previous`` unchanged, new accounts appended.

    ``previous`` must number its accounts ``0 .. n-1``. Every account of ``accounts``
    not already in it (compared case-insensitively) gets the next index, in ascending
    address order (lowercase hex, which is numeric order). The result holds the
    previous accounts under their previous spelling plus the new ones.
    """
    known = {account.lower() for account in previous}
    if len(known) != len(previous):
        raise ValueError("an account appears twice in the previous indexes")
    if sorted(previous.values()) != list(range(len(previous))):
        raise ValueError(f"previous indexes must be 0..{len(previous) - 1}, each once")
    new: dict[str, str] = {}
    for account in accounts:
        key = account.lower()
        _address_bytes(account)
        if key not in known:
            if key in new and new[key] != account:
                raise ValueError(f"account appears twice: {account}")
            new[key] = account
    indexes = dict(previous)
    for offset, key in enumerate(sorted(new)):
        indexes[new[key]] = len(previous) + offset
    return indexes


def build_tree_from_leaves(leaves: Sequence[bytes]) -> list[bytes]:
    """The node array of a tree over already-hashed leaves, taken in the given order.

    Leaf ``k`` lands at index ``len(tree) - 1 - k``; callers sort leaves first to get
    the standard tree.
    """
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    size = 2 * len(leaves) - 1
    tree: list[bytes] = [b""] * size
    for k, leaf in enumerate(leaves):
        tree[size - 1 - k] = leaf
    for i in range(size - 1 - len(leaves), -1, -1):
        tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def proof_for_index(tree: Sequence[bytes], index: int) -> list[bytes]:
    """Sibling hashes from the node at ``index`` up to the root."""
    proof: list[bytes] = []
    while index > 0:
        sibling = index + 1 if index % 2 == 1 else index - 1
        proof.append(tree[sibling])
        index = (index - 1) // 2
    return proof


@dataclass(frozen=True)
class RewardTree:
    """A standard tree over ``account -> cumulative amount``, each under its index.

    Accounts are compared case-insensitively; each may appear once, and ``indexes``
    gives each account of ``amounts`` a distinct index (see ``assign_indexes``).
    """

    amounts: Mapping[str, int]
    indexes: Mapping[str, int]
    tree: list[bytes] = field(repr=False)
    # key -> (tree position, index, amount)
    _entries: dict[str, tuple[int, int, int]] = field(repr=False)

    @classmethod
    def build(cls, amounts: Mapping[str, int], indexes: Mapping[str, int]) -> RewardTree:
        by_key: dict[str, int] = {}
        for account, amount in amounts.items():
            key = account.lower()
            if key in by_key:
                raise ValueError(f"account appears twice: {account}")
            by_key[key] = amount
        index_of = {account.lower(): index for account, index in indexes.items()}
        if len(index_of) != len(indexes):
            raise ValueError("an account appears twice in the indexes")
        if index_of.keys() != by_key.keys():
            missing = sorted(by_key.keys() - index_of.keys())
            extra = sorted(index_of.keys() - by_key.keys())
            raise ValueError(f"indexes do not match the accounts: missing {missing}, extra {extra}")
        if len(set(index_of.values())) != len(index_of):
            raise ValueError("two accounts share an index")
        hashed = sorted(
            (leaf_hash(index_of[key], key, amount), key) for key, amount in by_key.items()
        )
        tree = build_tree_from_leaves([h for h, _ in hashed])
        size = len(tree)
        entries = {
            key: (size - 1 - k, index_of[key], by_key[key]) for k, (_, key) in enumerate(hashed)
        }
        return cls(amounts=dict(amounts), indexes=dict(indexes), tree=tree, _entries=entries)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    @property
    def total(self) -> int:
        """Sum of all cumulative amounts (what the distributor must eventually hold)."""
        return sum(self.amounts.values())

    def __contains__(self, account: object) -> bool:
        return isinstance(account, str) and account.lower() in self._entries

    def index_of(self, account: str) -> int:
        """``account``'s leaf index; ``KeyError`` if it has no leaf."""
        return self._entry(account)[1]

    def amount_of(self, account: str) -> int:
        """The cumulative amount in ``account``'s leaf; ``KeyError`` if it has none."""
        return self._entry(account)[2]

    def proof(self, account: str) -> list[bytes]:
        """The proof for ``account``'s leaf; ``KeyError`` if it has none."""
        return proof_for_index(self.tree, self._entry(account)[0])

    def _entry(self, account: str) -> tuple[int, int, int]:
        try:
            return self._entries[account.lower()]
        except KeyError:
            raise KeyError(f"no leaf for account {account}") from None
