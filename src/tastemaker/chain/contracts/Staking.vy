# pragma version ~=0.4.3
"""
@title Staking
@notice Holds staked TasteToken and keeps, per account, a checkpoint of the staked
        amount at every block where it changed. Voting power for a round is read as
        the minimum stake held at the end of every block of the round's window, so
        unstaking mid-round forfeits it. The contract has no admin.
@dev Reading the minimum over any window costs O(log n) storage reads however many
     checkpoints the account has, so no account can make a read (or a batch read)
     revert by staking often. Each checkpoint is one storage word: its block, its
     amount, and a link to the nearest earlier checkpoint with a smaller amount
     ("parent") plus a skew-binary jump pointer along those links (Myers 1983). The
     parents of the newest checkpoint are the suffix minima of the history, so the
     minimum over checkpoints [l, r] is the amount of the last ancestor of r whose
     index is still >= l, found with the jump pointers in O(log n) steps. Pushing a
     checkpoint finds its parent the same way. Checkpoints are numbered from 1; node
     0 is a virtual root (all zero) below every amount.
     Word layout: block << 216 | depth << 176 | parent << 136 | jump << 96 | amount.
"""

from ethereum.ercs import IERC20

event Staked:
    account: indexed(address)
    amount: uint256
    total: uint256

event Unstaked:
    account: indexed(address)
    amount: uint256
    total: uint256

# Accounts per `min_stakes_between` call.
MAX_BATCH: constant(uint256) = 512
# Bound of the O(log n) searches (about 2.3 log2(n) steps are needed; 160 covers
# more checkpoints than an account could ever write).
MAX_STEPS: constant(uint256) = 160
AMOUNT_BITS: constant(uint256) = 96
AMOUNT_MASK: constant(uint256) = (1 << AMOUNT_BITS) - 1
MASK40: constant(uint256) = (1 << 40) - 1
JUMP_SHIFT: constant(uint256) = 96
PARENT_SHIFT: constant(uint256) = 136
DEPTH_SHIFT: constant(uint256) = 176
BLOCK_SHIFT: constant(uint256) = 216

token: public(immutable(IERC20))

# account => number of checkpoints
num_checkpoints: public(HashMap[address, uint256])
# account => index (1-based) => packed checkpoint (see the layout above)
_checkpoints: HashMap[address, HashMap[uint256, uint256]]


@deploy
def __init__(token_: IERC20):
    """
    @notice Deploy the staking contract for `token_`.
    @param token_ The ERC-20 that is staked.
    """
    token = token_


@external
def stake(amount: uint256):
    """
    @notice Stake `amount` tokens (the caller must have approved this contract).
    @param amount Token amount to add to the caller's stake.
    """
    assert amount > 0, "staking: zero amount"
    total: uint256 = self._latest(msg.sender) + amount
    assert total <= AMOUNT_MASK, "staking: amount too large"
    self._push(msg.sender, total)
    assert extcall token.transferFrom(msg.sender, self, amount, default_return_value=True), "staking: transfer failed"
    log Staked(account=msg.sender, amount=amount, total=total)


@external
def unstake(amount: uint256):
    """
    @notice Withdraw `amount` of the caller's stake back to the caller.
    @param amount Token amount to remove from the caller's stake.
    """
    assert amount > 0, "staking: zero amount"
    current: uint256 = self._latest(msg.sender)
    assert current >= amount, "staking: amount exceeds stake"
    total: uint256 = current - amount
    self._push(msg.sender, total)
    assert extcall token.transfer(msg.sender, amount, default_return_value=True), "staking: transfer failed"
    log Unstaked(account=msg.sender, amount=amount, total=total)


@external
@view
def staked(account: address) -> uint256:
    """
    @notice The current stake of `account`.
    @param account The staker.
    @return The staked amount now.
    """
    return self._latest(account)


@external
@view
def checkpoint(account: address, index: uint256) -> (uint256, uint256):
    """
    @notice The `index`-th checkpoint of `account`.
    @param account The staker.
    @param index Position, from 0 to `num_checkpoints(account) - 1`.
    @return (block number, stake from the end of that block on).
    """
    assert index < self.num_checkpoints[account], "staking: no such checkpoint"
    packed: uint256 = self._checkpoints[account][index + 1]
    return (packed >> BLOCK_SHIFT, packed & AMOUNT_MASK)


@external
@view
def stake_at(account: address, block_number: uint256) -> uint256:
    """
    @notice The stake of `account` at the end of block `block_number`.
    @param account The staker.
    @param block_number A block not after the current one.
    @return The staked amount at that block.
    """
    assert block_number <= block.number, "staking: future block"
    n: uint256 = self.num_checkpoints[account]
    pos: uint256 = self._upper_lookup(account, block_number, n)
    return self._checkpoints[account][pos] & AMOUNT_MASK


@external
@view
def min_stake_between(account: address, from_block: uint256, to_block: uint256) -> uint256:
    """
    @notice The smallest stake `account` held at the end of any block in
            [`from_block`, `to_block`]: the basis of voting power for a round.
    @param account The staker.
    @param from_block First block of the window (inclusive).
    @param to_block Last block of the window (inclusive), not after the current block.
    @return The minimum stake over the window.
    """
    return self._min_stake_between(account, from_block, to_block)


@external
@view
def min_stakes_between(
    accounts: DynArray[address, MAX_BATCH], from_block: uint256, to_block: uint256
) -> DynArray[uint256, MAX_BATCH]:
    """
    @notice `min_stake_between` for up to 512 accounts in one call.
    @param accounts The stakers.
    @param from_block First block of the window (inclusive).
    @param to_block Last block of the window (inclusive), not after the current block.
    @return The minimum stake of each account, in the same order.
    """
    result: DynArray[uint256, MAX_BATCH] = []
    for account: address in accounts:
        result.append(self._min_stake_between(account, from_block, to_block))
    return result


@internal
@view
def _min_stake_between(account: address, from_block: uint256, to_block: uint256) -> uint256:
    assert from_block <= to_block, "staking: empty range"
    assert to_block <= block.number, "staking: future block"
    n: uint256 = self.num_checkpoints[account]
    first: uint256 = self._upper_lookup(account, from_block, n)
    if first == 0:
        # No stake at the start of the window: the minimum is zero.
        return 0
    v: uint256 = self._upper_lookup(account, to_block, n)
    node: uint256 = self._checkpoints[account][v]
    # Climb from the window's last checkpoint to its oldest ancestor inside the window.
    for _: uint256 in range(MAX_STEPS):
        parent: uint256 = (node >> PARENT_SHIFT) & MASK40
        if parent < first:
            return node & AMOUNT_MASK
        jump: uint256 = (node >> JUMP_SHIFT) & MASK40
        if jump >= first:
            v = jump
        else:
            v = parent
        node = self._checkpoints[account][v]
    raise "staking: search did not finish"


@internal
@view
def _latest(account: address) -> uint256:
    return self._checkpoints[account][self.num_checkpoints[account]] & AMOUNT_MASK


@internal
def _push(account: address, amount: uint256):
    n: uint256 = self.num_checkpoints[account]
    last: uint256 = self._checkpoints[account][n]
    index: uint256 = n + 1
    below: uint256 = n  # the checkpoint the new one goes on top of
    below_node: uint256 = last
    # Several changes in one block keep one checkpoint: the end-of-block value.
    if n > 0 and last >> BLOCK_SHIFT == block.number:
        index = n
        below = n - 1
        below_node = self._checkpoints[account][below]
    else:
        assert index <= MASK40, "staking: too many checkpoints"
    parent: uint256 = self._parent_for(account, below, below_node, amount)
    parent_node: uint256 = below_node
    if parent != below:
        parent_node = self._checkpoints[account][parent]
    depth: uint256 = ((parent_node >> DEPTH_SHIFT) & MASK40) + 1
    jump: uint256 = parent
    if parent != 0:
        pj: uint256 = (parent_node >> JUMP_SHIFT) & MASK40
        pj_node: uint256 = self._checkpoints[account][pj]
        pjj: uint256 = (pj_node >> JUMP_SHIFT) & MASK40
        pj_depth: uint256 = (pj_node >> DEPTH_SHIFT) & MASK40
        pjj_depth: uint256 = (self._checkpoints[account][pjj] >> DEPTH_SHIFT) & MASK40
        if depth - 1 - pj_depth == pj_depth - pjj_depth:
            jump = pjj
    self._checkpoints[account][index] = (
        (block.number << BLOCK_SHIFT)
        | (depth << DEPTH_SHIFT)
        | (parent << PARENT_SHIFT)
        | (jump << JUMP_SHIFT)
        | amount
    )
    if index != n:
        self.num_checkpoints[account] = index


@internal
@view
def _parent_for(account: address, top: uint256, top_node: uint256, amount: uint256) -> uint256:
    # The newest checkpoint at or below `top` whose amount is below `amount` (0, the
    # virtual root, if none): the first ancestor of `top` (itself included) under it.
    if top == 0 or top_node & AMOUNT_MASK < amount:
        return top
    v_node: uint256 = top_node
    for _: uint256 in range(MAX_STEPS):
        parent: uint256 = (v_node >> PARENT_SHIFT) & MASK40
        if parent == 0:
            return 0
        parent_node: uint256 = self._checkpoints[account][parent]
        if parent_node & AMOUNT_MASK < amount:
            return parent
        jump: uint256 = (v_node >> JUMP_SHIFT) & MASK40
        if jump != 0 and jump != parent:
            jump_node: uint256 = self._checkpoints[account][jump]
            if jump_node & AMOUNT_MASK >= amount:
                v_node = jump_node
                continue
        v_node = parent_node
    raise "staking: search did not finish"


@internal
@view
def _upper_lookup(account: address, block_number: uint256, n: uint256) -> uint256:
    # Index of the newest checkpoint with block <= block_number (0: none), by binary
    # search; the newest checkpoint is tried first (the usual end of a window).
    if n == 0:
        return 0
    if self._checkpoints[account][n] >> BLOCK_SHIFT <= block_number:
        return n
    low: uint256 = 1
    high: uint256 = n
    for _: uint256 in range(64):
        if low >= high:
            break
        mid: uint256 = (low + high) // 2
        if self._checkpoints[account][mid] >> BLOCK_SHIFT > block_number:
            high = mid
        else:
            low = mid + 1
    return low - 1
