"""core.merkle against OpenZeppelin's @openzeppelin/merkle-tree outputs."""

import random

import pytest
from eth_abi import encode
from eth_hash.auto import keccak

from tastemaker.core.merkle import (
    RewardTree,
    assign_indexes,
    build_tree_from_leaves,
    leaf_hash,
    process_proof,
    proof_for_index,
    verify,
)

A1 = "0x1111111111111111111111111111111111111111"
A2 = "0x2222222222222222222222222222222222222222"
A3 = "0x3333333333333333333333333333333333333333"
AB = "0x" + "ab" * 20


def _fresh(amounts):
    """A first-epoch tree: indexes in address order."""
    return RewardTree.build(amounts, assign_indexes({}, amounts))


def test_openzeppelin_three_leaf_tree():
    # @openzeppelin/merkle-tree 1.0.8 (npm), computed independently:
    # StandardMerkleTree.of([["0", A1, "5000000000000000000"], ["1", A2, "2500000000000000000"],
    #                        ["2", A3, "7"]], ["uint256", "address", "uint256"]).dump().tree
    tree = RewardTree.build({A1: 5 * 10**18, A2: 25 * 10**17, A3: 7}, {A1: 0, A2: 1, A3: 2})
    assert [node.hex() for node in tree.tree] == [
        "64bc16d1a3ca2d5b3cb5a97b801c45dbd02fb9a50a95278c2916336a7682dab8",
        "d16896c5291f22b49599c38d37d92f80f4819709ebdd22205a937f9c9ac5d13a",
        "a4836074e1400054861d8a34845d66b653e110fc69bdf542cea97cc708fcb8e0",
        "191d0f7d65eab0fa6c201d27df14a838bda49373c2ccb0fa0263334fcebd4d0e",
        "006339a0971f8d293763c27967110607da32bf3548b17cce12da9fee72331612",
    ]
    # getProof(0) and getProof(2) from the same tree
    assert [p.hex() for p in tree.proof(A1)] == [
        "191d0f7d65eab0fa6c201d27df14a838bda49373c2ccb0fa0263334fcebd4d0e",
        "a4836074e1400054861d8a34845d66b653e110fc69bdf542cea97cc708fcb8e0",
    ]
    assert [p.hex() for p in tree.proof(A3)] == [
        "d16896c5291f22b49599c38d37d92f80f4819709ebdd22205a937f9c9ac5d13a"
    ]
    assert leaf_hash(0, A1, 5 * 10**18).hex().startswith("006339a0")
    assert leaf_hash(0, A1, 5 * 10**18) == keccak(
        keccak(encode(["uint256", "address", "uint256"], [0, A1, 5 * 10**18]))
    )


def test_openzeppelin_six_leaf_root_with_indexes_out_of_order():
    # StandardMerkleTree.of(values, ["uint256", "address", "uint256"]).root, npm 1.0.8
    values = [(5 - i, "0x" + str(i + 4) * 40, 10**18 * (i + 1) + i) for i in range(6)]
    tree = RewardTree.build({a: v for _, a, v in values}, {a: i for i, a, _ in values})
    assert tree.root.hex() == "74915f6104361a145558c1c26fb6c0033f50278c1b45566bd3694366fa41f57f"


def test_openzeppelin_sorted_dump_of_six_strings():
    # test/dumps/standard-v1.sorted.1_0_6.json in OpenZeppelin/merkle-tree: leaf
    # encoding ["string"], values a..f. Same layout and pair hashing as ours.
    expected = [
        "6deb52b5da8fd108f79fab00341f38d2587896634c646ee52e49f845680a70c8",
        "52426e0f1f65ff7e209a13b8c29cffe82e3acaf3dad0a9b9088f3b9a61a929c3",
        "fd3cf45654e88d1cc5d663578c82c76f4b5e3826bacaa1216441443504538f51",
        "8076923e76cf01a7c048400a2304c9a9c23bbbdac3a98ea3946340fdafbba34f",
        "965b92c6cf08303cc4feb7f3e0819c436c2cec17c6f0688a6af139c9a368707c",
        "eba909cf4bb90c6922771d7f126ad0fd11dfde93f3937a196274e1ac20fd2f5b",
        "c62a8cfa41edc0ef6f6ae27a2985b7d39c7fea770787d7e104696c6e81f64848",
        "9cf5a63718145ba968a01c1d557020181c5b252f665cf7386d370eddb176517b",
        "9c15a6a0eaeed500fd9eed4cbeab71f797cefcc67bfd46683e4d2e6ff7f06d1c",
        "9a4f64e953595df82d1b4f570d34c4f4f0cfaf729a61e9d60e83e579e1aa283e",
        "19ba6c6333e0e9a15bf67523e0676e2f23eb8e574092552d5e888c64a4bb3681",
    ]
    leaves = sorted(keccak(keccak(encode(["string"], [c]))) for c in "abcdef")
    tree = build_tree_from_leaves(leaves)
    assert [node.hex() for node in tree] == expected
    # value "a" sits at treeIndex 8 in the dump
    leaf_a = keccak(keccak(encode(["string"], ["a"])))
    assert tree[8] == leaf_a
    assert process_proof(leaf_a, proof_for_index(tree, 8)) == tree[0]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 33])
def test_every_proof_verifies_and_a_wrong_amount_does_not(n):
    rnd = random.Random(n)
    amounts = {"0x" + rnd.randbytes(20).hex(): rnd.randint(1, 10**24) for _ in range(n)}
    tree = _fresh(amounts)
    assert tree.total == sum(amounts.values())
    assert sorted(tree.indexes.values()) == list(range(n))
    for account, amount in amounts.items():
        proof = tree.proof(account)
        index = tree.index_of(account)
        assert verify(tree.root, index, account, amount, proof)
        assert not verify(tree.root, index, account, amount + 1, proof)
        assert not verify(tree.root, index + 1, account, amount, proof)
        assert tree.amount_of(account.upper().replace("0X", "0x")) == amount


def test_single_leaf_tree_is_its_leaf():
    tree = RewardTree.build({A1: 7}, {A1: 0})
    assert tree.root == leaf_hash(0, A1, 7)
    assert tree.proof(A1) == []


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ({}, "at least one leaf"),
        ({"0x" + "ab" * 20: 1, "0x" + "AB" * 20: 2}, "twice"),
        ({"0x1234": 1}, "20 bytes"),
        ({"0xzz11111111111111111111111111111111111111": 1}, "not a hex address"),
        ({A1: -1}, "uint256"),
    ],
)
def test_bad_input_is_refused(amounts, message):
    with pytest.raises(ValueError, match=message):
        RewardTree.build(amounts, dict(zip(amounts, range(len(amounts)), strict=True)))


@pytest.mark.parametrize(
    ("indexes", "message"),
    [
        ({A1: 0}, "do not match"),
        ({A1: 0, AB: 1, A3: 2}, "do not match"),
        ({A1: 0, AB: 0}, "share an index"),
        ({A1: 0, AB: 1, AB.upper().replace("0X", "0x"): 2}, "twice"),
        ({A1: 0, AB: -1}, "uint256"),
    ],
)
def test_indexes_must_name_each_account_once(indexes, message):
    with pytest.raises(ValueError, match=message):
        RewardTree.build({A1: 1, AB: 2}, indexes)


def test_unknown_account_has_no_proof():
    with pytest.raises(KeyError):
        _fresh({A1: 1}).proof(A2)


# ------------------------------------------------------------------ stable indexes


def test_first_epoch_indexes_follow_address_order_whatever_the_case():
    upper = "0x" + "AB" * 20
    accounts = [A3, upper, A1, A2]
    assert assign_indexes({}, accounts) == {A1: 0, A2: 1, A3: 2, upper: 3}
    # lowercase hex order is numeric order: a checksummed spelling sorts the same
    assert assign_indexes({}, [a.lower() for a in accounts])["0x" + "ab" * 20] == 3


def test_indexes_are_stable_across_epochs_and_new_accounts_are_appended():
    rnd = random.Random(7)
    indexes: dict[str, int] = {}
    first_epoch: dict[str, int] = {}
    for epoch in range(6):
        epoch_accounts = ["0x" + rnd.randbytes(20).hex() for _ in range(rnd.randint(0, 9))]
        epoch_accounts += rnd.sample(sorted(indexes), min(3, len(indexes)))  # returning voters
        for account in epoch_accounts:
            first_epoch.setdefault(account, epoch)
        new = sorted({a.lower() for a in epoch_accounts} - {a.lower() for a in indexes})
        after = assign_indexes(indexes, epoch_accounts)
        for account, index in indexes.items():
            assert after[account] == index  # nobody already indexed ever moves
        assert [after[a] for a in new] == list(range(len(indexes), len(indexes) + len(new)))
        assert sorted(after.values()) == list(range(len(after)))
        indexes = after
    # The same numbering, in one go: by the epoch an account first appeared, then address.
    by_history = sorted(first_epoch, key=lambda a: (first_epoch[a], a.lower()))
    assert indexes == {a: i for i, a in enumerate(by_history)}


def test_a_known_account_keeps_its_index_in_another_spelling():
    checksummed = "0x" + "AB" * 20
    after = assign_indexes({A2: 0, checksummed: 1}, [checksummed.lower(), A1])
    assert after == {A2: 0, checksummed: 1, A1: 2}


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        ({A1: 1}, "0..0"),
        ({A1: 0, A2: 0}, "0..1"),
        ({AB: 0, AB.upper().replace("0X", "0x"): 1}, "twice"),
    ],
)
def test_previous_indexes_must_be_dense(previous, message):
    with pytest.raises(ValueError, match=message):
        assign_indexes(previous, [A3])


def test_new_accounts_must_be_addresses():
    with pytest.raises(ValueError, match="20 bytes"):
        assign_indexes({}, ["0x1234"])
