# pragma version ~=0.4.3
"""
@title RewardDistributor
@notice Pays voters their share of auction proceeds, in ETH. The operator posts one
        cumulative Merkle root per epoch; each leaf holds an account's lifetime total
        under the account's permanent index (OpenZeppelin StandardMerkleTree encoding
        of (uint256 index, address account, uint256 cumulative), double-hashed keccak,
        sorted-pair nodes). `claim` pays the difference between that total and what
        the index has already been paid, so a new root never needs old claims.
@dev Gas: one cold read of the root; the amounts paid so far are packed two uint128
     per storage word (word index // 2, low half for even indexes), so only the first
     claimer of a word pays the zero-to-non-zero write; a proof bound of 32 levels
     (2**32 leaves), and the proof hashed in scratch memory. An account's index never
     changes across epochs (tastemaker.core.merkle.assign_indexes), since the amount
     paid belongs to the index.
"""

from snekmate.auth import ownable

initializes: ownable

exports: (ownable.owner, ownable.transfer_ownership)

event RootPosted:
    epoch: indexed(uint256)
    root: bytes32
    total: uint256

# `amount` is what this claim paid; an index's cumulative total is the sum of its
# amounts (and `claimed(index)`), so it is not logged again (~270 gas a claim).
event Claimed:
    account: indexed(address)
    index: uint256
    amount: uint256

event Funded:
    sender: indexed(address)
    amount: uint256

event OperatorChanged:
    operator: address

MAX_PROOF: constant(uint256) = 32
# The largest cumulative amount a leaf may hold: amounts paid are stored as uint128.
MAX_AMOUNT: constant(uint256) = 2**128 - 1

merkle_root: public(bytes32)
epoch: public(uint256)
operator: public(address)
# index // 2 => cumulative amounts already paid to indexes 2k (low 128 bits) and 2k+1
# (high 128 bits); read one with `claimed(index)`
paid: HashMap[uint256, uint256]
# epoch => root, for audits
roots: public(HashMap[uint256, bytes32])


@deploy
def __init__(operator_: address):
    """
    @notice Deploy the distributor; the deployer becomes owner.
    @param operator_ The account allowed to post roots.
    """
    ownable.__init__()
    self.operator = operator_
    log OperatorChanged(operator=operator_)


@external
@payable
def __default__():
    """
    @notice Receive proceeds (from the auction house or anyone).
    """
    log Funded(sender=msg.sender, amount=msg.value)


@external
def post_root(epoch_: uint256, root: bytes32, total: uint256):
    """
    @notice Publish the cumulative root of epoch `epoch_`, which must be the next epoch.
            Operator only. The epoch check makes a retried post fail instead of repeating.
    @param epoch_ The epoch number (current epoch + 1).
    @param root The Merkle root over (index, account, cumulative amount) leaves.
    @param total Sum of all cumulative amounts in the tree (for indexers and audits).
    """
    assert msg.sender == self.operator, "distributor: caller is not the operator"
    assert epoch_ == self.epoch + 1, "distributor: wrong epoch"
    assert root != empty(bytes32), "distributor: empty root"
    self.epoch = epoch_
    self.merkle_root = root
    self.roots[epoch_] = root
    log RootPosted(epoch=epoch_, root=root, total=total)


@view
@external
def claimed(index: uint256) -> uint256:
    """
    @notice The cumulative amount already paid to the leaf index `index`.
    @param index The account's leaf index.
    @return The amount paid so far, in wei.
    """
    return (self.paid[index >> 1] >> ((index & 1) << 7)) & MAX_AMOUNT


@external
def claim(
    index: uint256,
    account: address,
    cumulative_amount: uint256,
    proof: DynArray[bytes32, MAX_PROOF],
):
    """
    @notice Pay `account` the part of `cumulative_amount` not yet paid to `index`.
            Anyone may call; the ETH always goes to `account`.
    @param index The account's leaf index (fixed for the life of the distributor).
    @param account The account in the leaf.
    @param cumulative_amount The account's lifetime total in the current root.
    @param proof Sibling hashes from the leaf to the root.
    """
    assert cumulative_amount <= MAX_AMOUNT, "distributor: amount exceeds uint128"
    slot: uint256 = index >> 1
    half: uint256 = (index & 1) << 7  # bit offset of this index in its word
    word: uint256 = self.paid[slot]
    already: uint256 = (word >> half) & MAX_AMOUNT
    assert cumulative_amount > already, "distributor: nothing to claim"
    node: bytes32 = keccak256(keccak256(abi_encode(index, account, cumulative_amount)))
    for sibling: bytes32 in proof:
        # Sorted-pair hashing, as in OpenZeppelin's MerkleProof.
        # (abi_encode of two words compiles to two MSTOREs; concat costs ~150 gas more.)
        if convert(node, uint256) < convert(sibling, uint256):
            node = keccak256(abi_encode(node, sibling))
        else:
            node = keccak256(abi_encode(sibling, node))
    assert node == self.merkle_root, "distributor: invalid proof"
    # Swap this index's half of the word for the new amount (both are below 2**128).
    self.paid[slot] = word ^ ((already ^ cumulative_amount) << half)
    amount: uint256 = cumulative_amount - already
    # Effects are done, so forwarding all gas is safe (checks-effects-interactions).
    raw_call(account, b"", value=amount)
    log Claimed(account=account, index=index, amount=amount)


@external
def set_operator(operator_: address):
    """
    @notice Change the account allowed to post roots. Owner only.
    @param operator_ The new operator.
    """
    ownable._check_owner()
    self.operator = operator_
    log OperatorChanged(operator=operator_)
