# pragma version ~=0.4.3
"""
@title Staking
@notice Holds staked TasteToken and keeps, per account, a checkpoint of the staked
        amount at every block where it changed. Voting power for a round is read as
        the minimum stake held at the end of every block of the round's window, so
        unstaking mid-round forfeits it.
@dev A checkpoint is packed into one storage word: block number in the high 48 bits,
     amount in the low 208 bits (one SSTORE per change instead of two).
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

# How many checkpoints one `min_stake_between` call may walk inside the range.
MAX_SCAN: constant(uint256) = 4096
# Accounts per `min_stakes_between` call.
MAX_BATCH: constant(uint256) = 512
AMOUNT_BITS: constant(uint256) = 208
AMOUNT_MASK: constant(uint256) = (1 << AMOUNT_BITS) - 1

token: public(immutable(IERC20))

# account => number of checkpoints
num_checkpoints: public(HashMap[address, uint256])
# account => index => packed (block << 208 | amount)
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
    packed: uint256 = self._checkpoints[account][index]
    return (packed >> AMOUNT_BITS, packed & AMOUNT_MASK)


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
    if pos == 0:
        return 0
    return self._checkpoints[account][pos - 1] & AMOUNT_MASK


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
    pos: uint256 = self._upper_lookup(account, from_block, n)
    if pos == 0:
        # No stake at the start of the window: the minimum is zero.
        return 0
    low: uint256 = self._checkpoints[account][pos - 1] & AMOUNT_MASK
    for k: uint256 in range(MAX_SCAN):
        if pos + k >= n or low == 0:
            return low
        packed: uint256 = self._checkpoints[account][pos + k]
        if packed >> AMOUNT_BITS > to_block:
            return low
        low = min(low, packed & AMOUNT_MASK)
    raise "staking: too many checkpoints in range"


@internal
@view
def _latest(account: address) -> uint256:
    n: uint256 = self.num_checkpoints[account]
    if n == 0:
        return 0
    return self._checkpoints[account][n - 1] & AMOUNT_MASK


@internal
def _push(account: address, amount: uint256):
    n: uint256 = self.num_checkpoints[account]
    packed: uint256 = (block.number << AMOUNT_BITS) | amount
    # Several changes in one block keep one checkpoint: the end-of-block value.
    if n > 0 and self._checkpoints[account][n - 1] >> AMOUNT_BITS == block.number:
        self._checkpoints[account][n - 1] = packed
        return
    self._checkpoints[account][n] = packed
    self.num_checkpoints[account] = n + 1


@internal
@view
def _upper_lookup(account: address, block_number: uint256, n: uint256) -> uint256:
    # Number of checkpoints with block <= block_number (binary search; 2**64 is far
    # above any possible checkpoint count).
    low: uint256 = 0
    high: uint256 = n
    for _: uint256 in range(64):
        if low >= high:
            break
        mid: uint256 = (low + high) // 2
        if self._checkpoints[account][mid] >> AMOUNT_BITS > block_number:
            high = mid
        else:
            low = mid + 1
    return low
