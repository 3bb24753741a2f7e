# pragma version ~=0.4.3
"""
@title RewardDistributor
@notice Pays voters their share of auction proceeds, in ETH. The operator proposes
        one cumulative Merkle root per epoch; each leaf holds an account's lifetime
        total under the account's permanent index (OpenZeppelin StandardMerkleTree
        encoding of (uint256 index, address account, uint256 cumulative),
        double-hashed keccak, sorted-pair nodes). `claim` pays the difference between
        that total and what the index has already been paid, so a new root never
        needs old claims.

        A proposed root is pending for a challenge window, during which a guardian
        may veto it; only then can it be claimed. A root whose total exceeds the ETH
        received so far is refused. Roles (snekmate access_control): OPERATOR_ROLE
        proposes roots, GUARDIAN_ROLE vetoes, the admin (the timelock) changes the
        challenge window and the roles.
@dev Gas: a claim against the active root reads it once (cold); the amounts paid so
     far are packed two uint128 per storage word (word index // 2, low half for even
     indexes), so only the first claimer of a word pays the zero-to-non-zero write; a
     proof bound of 32 levels (2**32 leaves), and the proof hashed in scratch memory.
     A pending root whose window has passed is claimable too (two more reads) until
     anyone calls `activate_root` or the next root is posted. An account's index never
     changes across epochs (tastemaker.core.merkle.assign_indexes), since the amount
     paid belongs to the index.
"""

from snekmate.auth import access_control
from snekmate.utils import eip712_domain_separator
from snekmate.utils import signature_checker

initializes: access_control
initializes: eip712_domain_separator

exports: (
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    access_control.supportsInterface,
    eip712_domain_separator.eip712Domain,
)

OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")
GUARDIAN_ROLE: public(constant(bytes32)) = keccak256("GUARDIAN_ROLE")

event RootPosted:
    epoch: indexed(uint256)
    root: bytes32
    total: uint256
    claimable_at: uint256

event RootActivated:
    epoch: indexed(uint256)
    root: bytes32

event RootVetoed:
    epoch: indexed(uint256)
    root: bytes32
    guardian: indexed(address)

# `amount` is what this claim paid; an index's cumulative total is the sum of its
# amounts (and `claimed(index)`), so it is not logged again (~270 gas a claim).
event Claimed:
    account: indexed(address)
    index: uint256
    amount: uint256

# A claim paid to another address than the leaf's account (named by the account).
event ClaimRedirected:
    account: indexed(address)
    recipient: indexed(address)

event Funded:
    sender: indexed(address)
    amount: uint256

event ChallengeWindowChanged:
    challenge_window: uint256

# EIP-712 message an account signs so that a relayer may submit its claim, paid to
# `recipient`. The signature covers the cumulative amount, so once it is paid the
# same signature can never pay again ("nothing to claim"); `deadline` bounds its life.
CLAIM_TYPEHASH: public(constant(bytes32)) = keccak256(
    "ClaimTo(address account,address recipient,uint256 cumulativeAmount,uint256 deadline)"
)

MAX_PROOF: constant(uint256) = 32
# The largest cumulative amount a leaf may hold: amounts paid are stored as uint128.
MAX_AMOUNT: constant(uint256) = 2**128 - 1
MAX_WINDOW: constant(uint256) = 90 * 86400

# The root claims are checked against (0 until the first root's window has passed).
merkle_root: public(bytes32)
# Epoch of `merkle_root`.
active_epoch: public(uint256)
# The newest posted root's epoch (pending or active); vetoed roots do not count.
epoch: public(uint256)
# The posted root waiting out its challenge window (0 when none), and when it becomes
# claimable.
pending_root: public(bytes32)
pending_claimable_at: public(uint256)
# Seconds a posted root waits before it can be claimed.
challenge_window: public(uint256)
# ETH ever received (proceeds for voters); a root's total may not exceed it.
received: public(uint256)
# Total of the newest posted root.
total: public(uint256)
# index // 2 => cumulative amounts already paid to indexes 2k (low 128 bits) and 2k+1
# (high 128 bits); read one with `claimed(index)`
paid: HashMap[uint256, uint256]
# epoch => root, for audits (a vetoed epoch reads 0)
roots: public(HashMap[uint256, bytes32])


@deploy
def __init__(operator_: address, guardian_: address, admin_: address, challenge_window_: uint256):
    """
    @notice Deploy the distributor with its roles and challenge window.
    @param operator_ Holder of OPERATOR_ROLE: proposes roots.
    @param guardian_ Holder of GUARDIAN_ROLE: may veto a root during its window.
    @param admin_ Holder of the admin role (the timelock).
    @param challenge_window_ Seconds between posting a root and its first claim.
    """
    access_control.__init__()
    eip712_domain_separator.__init__("Tastemaker RewardDistributor", "1")
    access_control._grant_role(OPERATOR_ROLE, operator_)
    access_control._grant_role(GUARDIAN_ROLE, guardian_)
    if admin_ != msg.sender:
        access_control._grant_role(access_control.DEFAULT_ADMIN_ROLE, admin_)
        access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_window(challenge_window_)


@external
@payable
def __default__():
    """
    @notice Receive proceeds for voters (from the auction house or anyone).
    """
    self.received += msg.value
    log Funded(sender=msg.sender, amount=msg.value)


@external
def post_root(epoch_: uint256, root: bytes32, total_: uint256):
    """
    @notice Propose the cumulative root of epoch `epoch_`, which must be the next
            epoch. Operator only. It becomes claimable after the challenge window;
            a previous pending root must have passed its window (it is activated).
            The epoch check makes a retried post fail instead of repeating.
    @param epoch_ The epoch number (current epoch + 1).
    @param root The Merkle root over (index, account, cumulative amount) leaves.
    @param total_ Sum of all cumulative amounts in the tree; at most `received`.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert epoch_ == self.epoch + 1, "distributor: wrong epoch"
    assert root != empty(bytes32), "distributor: empty root"
    assert total_ <= self.received, "distributor: total exceeds funds"
    if self.pending_root != empty(bytes32):
        assert block.timestamp >= self.pending_claimable_at, "distributor: root pending"
        self._activate()
    claimable_at: uint256 = block.timestamp + self.challenge_window
    self.epoch = epoch_
    self.pending_root = root
    self.pending_claimable_at = claimable_at
    self.total = total_
    self.roots[epoch_] = root
    log RootPosted(epoch=epoch_, root=root, total=total_, claimable_at=claimable_at)


@external
def veto_root(epoch_: uint256):
    """
    @notice Reject the pending root of epoch `epoch_` during its challenge window.
            Guardian only. The epoch can then be posted again (corrected).
    @param epoch_ The pending root's epoch.
    """
    access_control._check_role(GUARDIAN_ROLE, msg.sender)
    root: bytes32 = self.pending_root
    assert root != empty(bytes32) and epoch_ == self.epoch, "distributor: no such pending root"
    assert block.timestamp < self.pending_claimable_at, "distributor: challenge window over"
    self.pending_root = empty(bytes32)
    self.pending_claimable_at = 0
    self.roots[epoch_] = empty(bytes32)
    self.epoch = epoch_ - 1
    log RootVetoed(epoch=epoch_, root=root, guardian=msg.sender)


@external
def activate_root():
    """
    @notice Make the pending root the active one once its window has passed (anyone
            may call; claims accept such a root anyway, this only makes them cheaper).
    """
    assert self.pending_root != empty(bytes32), "distributor: no pending root"
    assert block.timestamp >= self.pending_claimable_at, "distributor: challenge window not over"
    self._activate()


@view
@external
def claimable_root() -> bytes32:
    """
    @notice The newest root that can be claimed now.
    @return The root (0 if none yet).
    """
    if self.pending_root != empty(bytes32) and block.timestamp >= self.pending_claimable_at:
        return self.pending_root
    return self.merkle_root


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
def claim(index: uint256, account: address, cumulative_amount: uint256, proof: DynArray[bytes32, MAX_PROOF]):
    """
    @notice Pay `account` the part of `cumulative_amount` not yet paid to `index`.
            Anyone may call; the ETH goes to `account`. If the transfer fails the
            claim reverts and the amount stays claimable.
    @param index The account's leaf index (fixed for the life of the distributor).
    @param account The account in the leaf.
    @param cumulative_amount The account's lifetime total in the claimable root.
    @param proof Sibling hashes from the leaf to the root.
    """
    self._claim(index, account, cumulative_amount, proof, account)


@external
def claim_to(
    index: uint256, account: address, cumulative_amount: uint256, proof: DynArray[bytes32, MAX_PROOF], recipient: address
):
    """
    @notice Like `claim`, but the leaf's account (the caller) has the ETH sent to
            `recipient`: for a contract wallet that cannot take plain ETH.
    @param index The caller's leaf index.
    @param account The caller, the account in the leaf.
    @param cumulative_amount The account's lifetime total in the claimable root.
    @param proof Sibling hashes from the leaf to the root.
    @param recipient Receiver of the ETH.
    """
    assert msg.sender == account, "distributor: only the account may redirect"
    assert recipient != empty(address), "distributor: zero recipient"
    self._claim(index, account, cumulative_amount, proof, recipient)
    log ClaimRedirected(account=account, recipient=recipient)


@external
def claim_with_signature(
    index: uint256,
    account: address,
    cumulative_amount: uint256,
    proof: DynArray[bytes32, MAX_PROOF],
    recipient: address,
    deadline: uint256,
    signature: Bytes[65],
):
    """
    @notice Like `claim_to`, sent by anyone (a relayer paying the gas): the leaf's
            account signed the EIP-712 message ClaimTo(account, recipient,
            cumulativeAmount, deadline) for this distributor's domain. A contract
            wallet signs through EIP-1271.
    @param index The account's leaf index.
    @param account The account in the leaf, the signer.
    @param cumulative_amount The account's lifetime total in the claimable root.
    @param proof Sibling hashes from the leaf to the root.
    @param recipient Receiver of the ETH, as signed.
    @param deadline Last timestamp at which the signature is accepted.
    @param signature The 65-byte signature (r, s, v) by `account`.
    """
    assert block.timestamp <= deadline, "distributor: signature expired"
    assert recipient != empty(address), "distributor: zero recipient"
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(CLAIM_TYPEHASH, account, recipient, cumulative_amount, deadline))
    )
    assert signature_checker._is_valid_signature_now(account, digest, signature), "distributor: bad signature"
    self._claim(index, account, cumulative_amount, proof, recipient)
    log ClaimRedirected(account=account, recipient=recipient)


@external
def set_challenge_window(challenge_window_: uint256):
    """
    @notice Change the challenge window of roots posted from now on. Admin (timelock) only.
    @param challenge_window_ Seconds, at most 90 days.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_window(challenge_window_)


@internal
def _claim(
    index: uint256, account: address, cumulative_amount: uint256, proof: DynArray[bytes32, MAX_PROOF], recipient: address
):
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
    if node != self.merkle_root:
        # Not the active root: the pending one, once its challenge window has passed.
        assert node == self.pending_root and node != empty(bytes32), "distributor: invalid proof"
        assert block.timestamp >= self.pending_claimable_at, "distributor: root not yet claimable"
    # Swap this index's half of the word for the new amount (both are below 2**128).
    self.paid[slot] = word ^ ((already ^ cumulative_amount) << half)
    amount: uint256 = cumulative_amount - already
    # Effects are done, so forwarding all gas is safe (checks-effects-interactions).
    success: bool = raw_call(recipient, b"", value=amount, revert_on_failure=False)
    assert success, "distributor: transfer failed"
    log Claimed(account=account, index=index, amount=amount)


@internal
def _activate():
    root: bytes32 = self.pending_root
    self.merkle_root = root
    self.active_epoch = self.epoch
    self.pending_root = empty(bytes32)
    self.pending_claimable_at = 0
    log RootActivated(epoch=self.epoch, root=root)


@internal
def _set_window(challenge_window_: uint256):
    assert challenge_window_ <= MAX_WINDOW, "distributor: window too long"
    self.challenge_window = challenge_window_
    log ChallengeWindowChanged(challenge_window=challenge_window_)
