"""core.merkle against OpenZeppelin's @openzeppelin/merkle-tree outputs."""

import random

import pytest
from eth_abi import encode
from eth_hash.auto import keccak

from tastemaker.core.merkle import (
    RewardTree,
    build_tree_from_leaves,
    leaf_hash,
    process_proof,
    proof_for_index,
    verify,
)

A1 = "0x1111111111111111111111111111111111111111"
A2 = "0x2222222222222222222222222222222222222222"


def test_openzeppelin_readme_tree():
    # StandardMerkleTree.of([[A1, "5000000000000000000"], [A2, "2500000000000000000"]],
    #                       ["address", "uint256"]).dump().tree
    tree = RewardTree.build({A1: 5 * 10**18, A2: 25 * 10**17})
    assert [node.hex() for node in tree.tree] == [
        "d4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77",
        "eb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283",
        "b92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc",
    ]
    assert tree.proof(A1) == [
        bytes.fromhex("b92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc")
    ]
    assert leaf_hash(A1, 5 * 10**18).hex().startswith("eb02c421")


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
    tree = RewardTree.build(amounts)
    assert tree.total == sum(amounts.values())
    for account, amount in amounts.items():
        proof = tree.proof(account)
        assert verify(tree.root, account, amount, proof)
        assert not verify(tree.root, account, amount + 1, proof)
        assert tree.amount_of(account.upper().replace("0X", "0x")) == amount


def test_single_leaf_tree_is_its_leaf():
    tree = RewardTree.build({A1: 7})
    assert tree.root == leaf_hash(A1, 7)
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
        RewardTree.build(amounts)


def test_unknown_account_has_no_proof():
    with pytest.raises(KeyError):
        RewardTree.build({A1: 1}).proof(A2)
