"""Merkle trees in OpenZeppelin's "standard" shape, for cumulative reward claims.

Matches ``StandardMerkleTree.of(values, ["address", "uint256"])`` from
``@openzeppelin/merkle-tree``: each leaf is ``keccak256(keccak256(abi.encode(account,
amount)))``; leaves are sorted by hash and laid out as a complete binary tree in one
array (root at index 0, children of ``i`` at ``2i+1`` and ``2i+2``, leaves at the end in
reverse order); an inner node hashes its two children in sorted order. Any standard
tool can therefore check the proofs, and ``RewardDistributor.claim`` verifies them.

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


def leaf_hash(account: str, amount: int) -> bytes:
    """The standard leaf: double keccak of ``abi.encode(address, uint256)``."""
    if not 0 <= amount <= _UINT256_MAX:
        raise ValueError(f"amount out of uint256 range: {amount}")
    encoded = b"\x00" * 12 + _address_bytes(account) + amount.to_bytes(32, "big")
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


def verify(root: bytes, account: str, amount: int, proof: Iterable[bytes]) -> bool:
    """Whether ``(account, amount)`` is a leaf of the tree with ``root``."""
    return process_proof(leaf_hash(account, amount), proof) == root


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
    """A standard tree over ``account -> cumulative amount``.

    Accounts are compared case-insensitively; each may appear once.
    """

    amounts: Mapping[str, int]
    tree: list[bytes] = field(repr=False)
    _index: dict[str, tuple[int, int]] = field(repr=False)  # key -> (tree position, amount)

    @classmethod
    def build(cls, amounts: Mapping[str, int]) -> RewardTree:
        hashed: list[tuple[bytes, str]] = []
        seen: set[str] = set()
        for account, amount in amounts.items():
            key = account.lower()
            if key in seen:
                raise ValueError(f"account appears twice: {account}")
            seen.add(key)
            hashed.append((leaf_hash(account, amount), key))
        hashed.sort()
        tree = build_tree_from_leaves([h for h, _ in hashed])
        size = len(tree)
        by_key = {account.lower(): amount for account, amount in amounts.items()}
        index = {key: (size - 1 - k, by_key[key]) for k, (_, key) in enumerate(hashed)}
        return cls(amounts=dict(amounts), tree=tree, _index=index)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    @property
    def total(self) -> int:
        """Sum of all cumulative amounts (what the distributor must eventually hold)."""
        return sum(self.amounts.values())

    def __contains__(self, account: object) -> bool:
        return isinstance(account, str) and account.lower() in self._index

    def amount_of(self, account: str) -> int:
        """The cumulative amount in ``account``'s leaf; ``KeyError`` if it has none."""
        return self._entry(account)[1]

    def proof(self, account: str) -> list[bytes]:
        """The proof for ``account``'s leaf; ``KeyError`` if it has none."""
        return proof_for_index(self.tree, self._entry(account)[0])

    def _entry(self, account: str) -> tuple[int, int]:
        try:
            return self._index[account.lower()]
        except KeyError:
            raise KeyError(f"no leaf for account {account}") from None
