"""RewardDistributor: cumulative roots, claims against proofs from core.merkle."""

import boa
import pytest

from tastemaker.core.merkle import RewardTree


@pytest.fixture
def members(funded):
    return [funded(f"member{i}", 0) for i in range(5)]


def _post(system, epoch, amounts):
    tree = RewardTree.build(amounts)
    with boa.env.prank(system.operator):
        system.distributor.post_root(epoch, tree.root, tree.total)
    return tree


def _fund(system, wei):
    boa.env.set_balance(system.operator, boa.env.get_balance(system.operator) + wei)
    with boa.env.prank(system.operator):
        boa.env.raw_call(system.distributor.address, value=wei)


def test_claims_pay_the_cumulative_difference(system, members):
    _fund(system, 10**18)
    first = {m: (i + 1) * 10**15 for i, m in enumerate(members)}
    tree = _post(system, 1, first)
    for m in members:
        system.distributor.claim(m, first[m], tree.proof(m))
        assert boa.env.get_balance(m) == first[m]

    second = {m: v * 3 for m, v in first.items()}
    tree = _post(system, 2, second)
    system.distributor.claim(members[0], second[members[0]], tree.proof(members[0]))
    assert boa.env.get_balance(members[0]) == second[members[0]]
    assert system.distributor.claimed(members[0]) == second[members[0]]
    assert system.distributor.roots(1) != system.distributor.roots(2)


def test_no_double_claim(system, members):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    system.distributor.claim(members[0], 10**15, tree.proof(members[0]))
    with boa.reverts("distributor: nothing to claim"):
        system.distributor.claim(members[0], 10**15, tree.proof(members[0]))


def test_wrong_amount_or_proof_is_refused(system, members):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    with boa.reverts("distributor: invalid proof"):
        system.distributor.claim(members[0], 10**15 + 1, tree.proof(members[0]))
    with boa.reverts("distributor: invalid proof"):
        system.distributor.claim(members[0], 10**15, tree.proof(members[1]))


def test_anyone_may_claim_but_the_account_is_paid(system, members, funded):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    relayer = funded("relayer")
    with boa.env.prank(relayer):
        system.distributor.claim(members[2], 10**15, tree.proof(members[2]))
    assert boa.env.get_balance(members[2]) == 10**15


def test_epochs_advance_one_at_a_time_by_the_operator(system, members, funded):
    tree = RewardTree.build({members[0]: 1})
    with boa.env.prank(funded("stranger")), boa.reverts("distributor: caller is not the operator"):
        system.distributor.post_root(1, tree.root, 1)
    with boa.env.prank(system.operator):
        with boa.reverts("distributor: wrong epoch"):
            system.distributor.post_root(2, tree.root, 1)
        system.distributor.post_root(1, tree.root, 1)
        with boa.reverts("distributor: wrong epoch"):
            system.distributor.post_root(1, tree.root, 1)
    assert system.distributor.epoch() == 1


def test_many_leaf_tree_proofs_verify_on_chain(system):
    _fund(system, 10**20)
    amounts = {boa.env.generate_address(f"m{i}"): 10**12 + i for i in range(300)}
    tree = _post(system, 1, amounts)
    for account in list(amounts)[::37]:
        system.distributor.claim(account, amounts[account], tree.proof(account))
        assert system.distributor.claimed(account) == amounts[account]
