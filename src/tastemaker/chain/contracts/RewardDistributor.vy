# pragma version ~=0.4.3
"""
@title RewardDistributor
@notice Pays voters their share of auction proceeds, in ETH. The operator posts one
        cumulative Merkle root per epoch; each leaf holds an account's lifetime total
        (OpenZeppelin StandardMerkleTree encoding of (address, uint256), double-hashed
        keccak, sorted-pair nodes). `claim` pays the difference between that total and
        what the account has already been paid, so a new root never needs old claims.
@dev Gas: one cold read of the root, one word per account for the amount paid so far,
     a proof bound of 32 levels (2**32 leaves), and the proof hashed in scratch memory.
"""

from snekmate.auth import ownable

initializes: ownable

exports: (ownable.owner, ownable.transfer_ownership)

event RootPosted:
    epoch: indexed(uint256)
    root: bytes32
    total: uint256

event Claimed:
    account: indexed(address)
    amount: uint256
    cumulative: uint256

event Funded:
    sender: indexed(address)
    amount: uint256

event OperatorChanged:
    operator: address

MAX_PROOF: constant(uint256) = 32

merkle_root: public(bytes32)
epoch: public(uint256)
operator: public(address)
# account => cumulative amount already paid
claimed: public(HashMap[address, uint256])
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
    @param root The Merkle root over (account, cumulative amount) leaves.
    @param total Sum of all cumulative amounts in the tree (for indexers and audits).
    """
    assert msg.sender == self.operator, "distributor: caller is not the operator"
    assert epoch_ == self.epoch + 1, "distributor: wrong epoch"
    assert root != empty(bytes32), "distributor: empty root"
    self.epoch = epoch_
    self.merkle_root = root
    self.roots[epoch_] = root
    log RootPosted(epoch=epoch_, root=root, total=total)


@external
def claim(account: address, cumulative_amount: uint256, proof: DynArray[bytes32, MAX_PROOF]):
    """
    @notice Pay `account` the part of `cumulative_amount` not yet paid. Anyone may
            call; the ETH always goes to `account`.
    @param account The account in the leaf.
    @param cumulative_amount The account's lifetime total in the current root.
    @param proof Sibling hashes from the leaf to the root.
    """
    already: uint256 = self.claimed[account]
    assert cumulative_amount > already, "distributor: nothing to claim"
    node: bytes32 = keccak256(keccak256(abi_encode(account, cumulative_amount)))
    for sibling: bytes32 in proof:
        # Sorted-pair hashing, as in OpenZeppelin's MerkleProof.
        # (abi_encode of two words compiles to two MSTOREs; concat costs ~150 gas more.)
        if convert(node, uint256) < convert(sibling, uint256):
            node = keccak256(abi_encode(node, sibling))
        else:
            node = keccak256(abi_encode(sibling, node))
    assert node == self.merkle_root, "distributor: invalid proof"
    self.claimed[account] = cumulative_amount
    amount: uint256 = cumulative_amount - already
    # Effects are done, so forwarding all gas is safe (checks-effects-interactions).
    raw_call(account, b"", value=amount)
    log Claimed(account=account, amount=amount, cumulative=cumulative_amount)


@external
def set_operator(operator_: address):
    """
    @notice Change the account allowed to post roots. Owner only.
    @param operator_ The new operator.
    """
    ownable._check_owner()
    self.operator = operator_
    log OperatorChanged(operator=operator_)
