"""RewardDistributor: cumulative roots over (index, account, cumulative) leaves, claims
against proofs from core.merkle, claimed amounts packed two to a storage word."""

import boa
import pytest

from tastemaker.chain.signed_claims import DOMAIN_NAME, DOMAIN_VERSION, sign_claim
from tastemaker.core.merkle import RewardTree, assign_indexes

from .support import WINDOW


@pytest.fixture
def members(funded):
    return [funded(f"member{i}", 0) for i in range(5)]


def _post(system, epoch, amounts, indexes=None, wait=True):
    """Post a root (funding the distributor up to its total) and wait out its window."""
    tree = RewardTree.build(amounts, indexes or assign_indexes({}, amounts))
    short = tree.total - system.distributor.received()
    if short > 0:
        _fund(system, short)
    with boa.env.prank(system.operator):
        system.distributor.post_root(epoch, tree.root, tree.total)
    if wait:
        boa.env.time_travel(seconds=WINDOW)
    return tree


def _fund(system, wei):
    boa.env.set_balance(system.operator, boa.env.get_balance(system.operator) + wei)
    with boa.env.prank(system.operator):
        boa.env.raw_call(system.distributor.address, value=wei)


def _claim(system, tree, account, amount=None, index=None, proof=None):
    return system.distributor.claim(
        tree.index_of(account) if index is None else index,
        account,
        tree.amount_of(account) if amount is None else amount,
        tree.proof(account) if proof is None else proof,
    )


def test_claims_pay_the_cumulative_difference(system, members):
    _fund(system, 10**18)
    first = {m: (i + 1) * 10**15 for i, m in enumerate(members)}
    tree = _post(system, 1, first)
    for m in members:
        _claim(system, tree, m)
        assert boa.env.get_balance(m) == first[m]
        assert system.distributor.claimed(tree.index_of(m)) == first[m]

    second = {m: v * 3 for m, v in first.items()}
    tree = _post(system, 2, second, tree.indexes)
    _claim(system, tree, members[0])
    assert boa.env.get_balance(members[0]) == second[members[0]]
    assert system.distributor.claimed(tree.index_of(members[0])) == second[members[0]]
    assert system.distributor.roots(1) != system.distributor.roots(2)


def test_claim_logs_the_account_index_and_amount(system, members):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    _claim(system, tree, members[3])
    (log,) = [e for e in system.distributor.get_logs() if type(e).__name__ == "Claimed"]
    assert (log.account, log.index, log.amount) == (members[3], tree.index_of(members[3]), 10**15)


def test_packed_neighbours_claim_independently(system, funded):
    """Indexes 2k and 2k+1 share a storage word: each claims, twice, in either order,
    and neither ever sees or changes the other's amount."""
    _fund(system, 10**21)
    accounts = [funded(f"neighbour{i}", 0) for i in range(6)]
    indexes = {a: i for i, a in enumerate(accounts)}  # words 0, 1, 2
    amounts = {a: (i + 1) * 10**15 + i for i, a in enumerate(accounts)}
    tree = _post(system, 1, amounts, indexes)
    # word 0: even first; word 1: odd first; word 2: only the odd one claims
    for account in (accounts[0], accounts[1], accounts[3], accounts[2], accounts[5]):
        _claim(system, tree, account)
    assert [system.distributor.claimed(i) for i in range(6)] == [
        amounts[accounts[0]],
        amounts[accounts[1]],
        amounts[accounts[2]],
        amounts[accounts[3]],
        0,
        amounts[accounts[5]],
    ]
    # A new cumulative root: amounts near the uint128 limit in one half must not spill.
    top = 2**128 - 1
    second = {a: amounts[a] + 7 * 10**15 for a in accounts}
    second[accounts[1]] = top - 10**18
    _fund(system, top)
    tree = _post(system, 2, second, indexes)
    for account in (accounts[1], accounts[0], accounts[4], accounts[2]):
        before = boa.env.get_balance(account)
        _claim(system, tree, account)
        paid = second[account] - (amounts[account] if account != accounts[4] else 0)
        assert boa.env.get_balance(account) - before == paid
    expected = [second[a] for a in accounts]
    expected[3], expected[5] = amounts[accounts[3]], amounts[accounts[5]]  # not claimed again
    assert [system.distributor.claimed(i) for i in range(6)] == expected
    for account in (accounts[0], accounts[1], accounts[2], accounts[4]):
        with boa.reverts("distributor: nothing to claim"):
            _claim(system, tree, account)
    # The ones that sat out the second claim still can, for exactly the rest.
    for account in (accounts[3], accounts[5]):
        before = boa.env.get_balance(account)
        _claim(system, tree, account)
        assert boa.env.get_balance(account) - before == second[account] - amounts[account]
    assert [system.distributor.claimed(i) for i in range(6)] == [second[a] for a in accounts]


def test_no_double_claim(system, members):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    _claim(system, tree, members[0])
    with boa.reverts("distributor: nothing to claim"):
        _claim(system, tree, members[0])


def test_wrong_amount_or_proof_is_refused(system, members):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    with boa.reverts("distributor: invalid proof"):
        _claim(system, tree, members[0], amount=10**15 + 1)
    with boa.reverts("distributor: invalid proof"):
        _claim(system, tree, members[0], proof=tree.proof(members[1]))


def test_index_must_be_the_accounts_own(system, members):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    a, b = members[0], members[1]
    # a's leaf with b's index, b's index with a's proof, b's index and proof for a
    with boa.reverts("distributor: invalid proof"):
        _claim(system, tree, a, index=tree.index_of(b))
    with boa.reverts("distributor: invalid proof"):
        system.distributor.claim(tree.index_of(b), a, 10**15, tree.proof(b))
    # an index outside the tree, including one that shares a word with a real one
    with boa.reverts("distributor: invalid proof"):
        _claim(system, tree, a, index=len(members))
    with boa.reverts("distributor: invalid proof"):
        _claim(system, tree, a, index=2**256 - 1)
    assert [system.distributor.claimed(i) for i in range(len(members) + 1)] == [0] * 6


def test_amounts_from_two_to_the_128_are_refused(system, members):
    amounts = {m: 10**15 for m in members}
    amounts[members[0]] = 2**128
    tree = RewardTree.build(amounts, assign_indexes({}, amounts))
    with boa.env.prank(system.operator):  # a root whose total is never funded: refused
        with boa.reverts("distributor: total exceeds funds"):
            system.distributor.post_root(1, tree.root, tree.total)
        system.distributor.post_root(1, tree.root, 0)  # (a lying total gets through)
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("distributor: amount exceeds uint128"):
        _claim(system, tree, members[0])
    with boa.reverts("distributor: amount exceeds uint128"):
        _claim(system, tree, members[1], amount=2**256 - 1)


def test_anyone_may_claim_but_the_account_is_paid(system, members, funded):
    _fund(system, 10**18)
    tree = _post(system, 1, {m: 10**15 for m in members})
    relayer = funded("relayer")
    with boa.env.prank(relayer):
        _claim(system, tree, members[2])
    assert boa.env.get_balance(members[2]) == 10**15


def test_epochs_advance_one_at_a_time_by_the_operator(system, members, funded):
    tree = RewardTree.build({members[0]: 1}, {members[0]: 0})
    _fund(system, 1)
    with boa.env.prank(funded("stranger")), boa.reverts("access_control: account is missing role"):
        system.distributor.post_root(1, tree.root, 1)
    with boa.env.prank(system.operator):
        with boa.reverts("distributor: wrong epoch"):
            system.distributor.post_root(2, tree.root, 1)
        system.distributor.post_root(1, tree.root, 1)
        with boa.reverts("distributor: wrong epoch"):
            system.distributor.post_root(1, tree.root, 1)
        with boa.reverts("distributor: root pending"):
            system.distributor.post_root(2, tree.root, 1)
    assert system.distributor.epoch() == 1


def test_many_leaf_tree_proofs_verify_on_chain(system):
    """Python's tree against the contract on 3,000 leaves (proofs of 11-12 hashes), with
    indexes that are not the address order (as after several epochs)."""
    _fund(system, 10**20)
    accounts = [boa.env.generate_address(f"m{i}") for i in range(3000)]
    amounts = {a: 10**12 + i for i, a in enumerate(accounts)}
    indexes = {a: (i * 7919) % len(accounts) for i, a in enumerate(accounts)}
    tree = _post(system, 1, amounts, indexes)
    assert {len(tree.proof(a)) for a in accounts} == {11, 12}
    claimers = accounts[::97]
    for account in claimers:
        _claim(system, tree, account)
    paid = {indexes[a]: amounts[a] for a in claimers}
    for index in sorted({i for c in claimers for i in (indexes[c], indexes[c] ^ 1)}):
        assert system.distributor.claimed(index) == paid.get(index, 0)


def test_contract_accepts_an_openzeppelin_tree_built_elsewhere(system):
    """Root and proofs from @openzeppelin/merkle-tree 1.0.8 (npm), not from core.merkle:
    StandardMerkleTree.of([["0", A1, "5000000000000000000"], ["1", A2, "2500000000000000000"],
    ["2", A3, "7"]], ["uint256", "address", "uint256"]); getProof(0), getProof(2)."""
    a1, a3 = "0x" + "11" * 20, "0x" + "33" * 20
    root = bytes.fromhex("64bc16d1a3ca2d5b3cb5a97b801c45dbd02fb9a50a95278c2916336a7682dab8")
    proof0 = [
        bytes.fromhex("191d0f7d65eab0fa6c201d27df14a838bda49373c2ccb0fa0263334fcebd4d0e"),
        bytes.fromhex("a4836074e1400054861d8a34845d66b653e110fc69bdf542cea97cc708fcb8e0"),
    ]
    proof2 = [bytes.fromhex("d16896c5291f22b49599c38d37d92f80f4819709ebdd22205a937f9c9ac5d13a")]
    _fund(system, 10 * 10**18)
    with boa.env.prank(system.operator):
        system.distributor.post_root(1, root, 75 * 10**17 + 7)
    boa.env.time_travel(seconds=WINDOW)
    system.distributor.claim(0, a1, 5 * 10**18, proof0)
    system.distributor.claim(2, a3, 7, proof2)
    with boa.reverts("distributor: invalid proof"):
        system.distributor.claim(1, a1, 5 * 10**18, proof0)
    assert [system.distributor.claimed(i) for i in range(3)] == [5 * 10**18, 0, 7]
    assert boa.env.get_balance(a1) == 5 * 10**18


def test_a_root_is_claimable_only_after_its_window(system, members):
    first = _post(system, 1, {m: 10**15 for m in members})
    second = _post(system, 2, {m: 3 * 10**15 for m in members}, first.indexes, wait=False)
    assert system.distributor.claimable_root() == first.root
    with boa.reverts("distributor: root not yet claimable"):
        _claim(system, second, members[0])
    _claim(system, first, members[0])  # the previous root still pays meanwhile
    boa.env.time_travel(seconds=WINDOW - 1)
    with boa.reverts("distributor: root not yet claimable"):
        _claim(system, second, members[1])
    boa.env.time_travel(seconds=1)
    assert system.distributor.claimable_root() == second.root
    _claim(system, second, members[0])  # pending but past its window: claimable
    assert boa.env.get_balance(members[0]) == 3 * 10**15
    system.distributor.activate_root()
    assert system.distributor.merkle_root() == second.root
    _claim(system, second, members[1])
    assert boa.env.get_balance(members[1]) == 3 * 10**15


def test_the_guardian_vetoes_a_root_in_its_window_only(system, members, funded):
    honest = _post(system, 1, {m: 10**15 for m in members})
    thief = funded("thief", 0)
    stolen = _post(system, 2, {thief: 4 * 10**15}, {thief: 0}, wait=False)
    with boa.env.prank(system.operator), boa.reverts("access_control: account is missing role"):
        system.distributor.veto_root(2)
    with boa.env.prank(system.guardian):
        with boa.reverts("distributor: no such pending root"):
            system.distributor.veto_root(1)
        system.distributor.veto_root(2)
    assert any(type(e).__name__ == "RootVetoed" for e in system.distributor.get_logs())
    assert (system.distributor.epoch(), system.distributor.roots(2)) == (1, bytes(32))
    boa.env.time_travel(seconds=WINDOW)
    with boa.reverts("distributor: invalid proof"):
        _claim(system, stolen, thief)
    _claim(system, honest, members[0])
    # The epoch is posted again, corrected; after its window the guardian is too late.
    fixed = _post(system, 2, {m: 2 * 10**15 for m in members}, honest.indexes)
    with boa.env.prank(system.guardian), boa.reverts("distributor: challenge window over"):
        system.distributor.veto_root(2)
    _claim(system, fixed, members[0])
    assert boa.env.get_balance(members[0]) == 2 * 10**15


def test_the_account_names_another_recipient(system, members, funded):
    tree = _post(system, 1, {m: 10**15 for m in members})
    wallet, relayer = members[0], funded("relayer")
    to = funded("cold", 0)
    args = (tree.index_of(wallet), wallet, 10**15, tree.proof(wallet), to)
    with boa.env.prank(relayer), boa.reverts("distributor: only the account may redirect"):
        system.distributor.claim_to(*args)
    with boa.env.prank(wallet):
        system.distributor.claim_to(*args)
    assert (boa.env.get_balance(to), boa.env.get_balance(wallet)) == (10**15, 0)


def test_a_failed_transfer_keeps_the_amount_claimable(system, funded):
    from .support import deployer

    wallet = deployer("GriefingBidder").deploy(system.auction.address, 1)  # rejects ETH
    tree = _post(system, 1, {wallet.address: 10**15}, {wallet.address: 0})
    with boa.reverts("distributor: transfer failed"):
        system.distributor.claim(0, wallet.address, 10**15, tree.proof(wallet.address))
    assert system.distributor.claimed(0) == 0
    to = funded("owner", 0)
    with boa.env.prank(wallet.address):
        system.distributor.claim_to(0, wallet.address, 10**15, tree.proof(wallet.address), to)
    assert boa.env.get_balance(to) == 10**15


def _signer_in_tree(system, members):
    """A member with a real key (to sign EIP-712), in a posted root with the others."""
    from eth_account import Account

    key = Account.create()
    tree = _post(system, 1, {key.address: 10**15, **{m: 10**15 for m in members}})
    return key, tree


def _domain(system):
    _, name, version, chain_id, contract, _, _ = system.distributor.eip712Domain()
    assert (name, version, contract) == (DOMAIN_NAME, DOMAIN_VERSION, system.distributor.address)
    return chain_id


def test_a_relayer_submits_a_claim_the_account_signed(system, members, funded):
    key, tree = _signer_in_tree(system, members)
    relayer, to = funded("relayer"), funded("cold", 0)
    deadline = boa.env.evm.patch.timestamp + 3600
    auth = sign_claim(key, _domain(system), system.distributor.address, to, 10**15, deadline)
    args = (tree.index_of(key.address), key.address, 10**15, tree.proof(key.address), to, deadline)
    with boa.env.prank(relayer):
        system.distributor.claim_with_signature(*args, auth.signature)
    assert (boa.env.get_balance(to), boa.env.get_balance(key.address)) == (10**15, 0)
    redirected = [e for e in system.distributor.get_logs() if type(e).__name__ == "ClaimRedirected"]
    assert (redirected[0].account, redirected[0].recipient) == (key.address, to)
    # Replayed: the signed amount is paid, so the same signature pays nothing again.
    with boa.env.prank(relayer), boa.reverts("distributor: nothing to claim"):
        system.distributor.claim_with_signature(*args, auth.signature)
    assert boa.env.get_balance(to) == 10**15


def test_forged_altered_or_expired_signatures_are_refused(system, members, funded):
    from eth_account import Account

    key, tree = _signer_in_tree(system, members)
    relayer, to, thief = funded("relayer"), funded("cold", 0), funded("thief", 0)
    chain_id, distributor = _domain(system), system.distributor.address
    deadline = boa.env.evm.patch.timestamp + 3600
    index, proof = tree.index_of(key.address), tree.proof(key.address)
    forged = sign_claim(Account.create(), chain_id, distributor, thief, 10**15, deadline)
    honest = sign_claim(key, chain_id, distributor, to, 10**15, deadline)
    other_chain = sign_claim(key, chain_id + 1, distributor, thief, 10**15, deadline)
    refused = [
        (thief, deadline, forged.signature),  # signed by another key
        (thief, deadline, honest.signature),  # recipient changed after signing
        (to, deadline + 1, honest.signature),  # deadline changed after signing
        (thief, deadline, other_chain.signature),  # another chain's domain
    ]
    malformed = [honest.signature[:64] + bytes([honest.signature[64] ^ 1]), b"\x00" * 65]
    with boa.env.prank(relayer):
        for recipient, until, signature in refused:
            with boa.reverts("distributor: bad signature"):
                system.distributor.claim_with_signature(
                    index, key.address, 10**15, proof, recipient, until, signature
                )
        for signature in malformed:
            with boa.reverts("ecdsa: invalid signature"):
                system.distributor.claim_with_signature(
                    index, key.address, 10**15, proof, to, deadline, signature
                )
        boa.env.time_travel(seconds=3601)
        with boa.reverts("distributor: signature expired"):
            system.distributor.claim_with_signature(
                index, key.address, 10**15, proof, to, deadline, honest.signature
            )
    assert system.distributor.claimed(index) == 0
    assert boa.env.get_balance(thief) == 0
