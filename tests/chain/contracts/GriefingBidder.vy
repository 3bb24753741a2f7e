# pragma version ~=0.4.3
"""
@title GriefingBidder (test only)
@notice A hostile bidder: bids through the auction house, then refuses refunds by
        reverting (mode 1) or by burning all the gas it is given (mode 2).
"""

auction_house: public(immutable(address))
mode: public(uint256)
_sink: HashMap[uint256, uint256]


@deploy
def __init__(auction_house_: address, mode_: uint256):
    """
    @notice Deploy against `auction_house_` with a griefing `mode_`.
    @param auction_house_ The AuctionHouse to bid on.
    @param mode_ 0 accept refunds, 1 revert, 2 burn all gas.
    """
    auction_house = auction_house_
    self.mode = mode_


@external
@payable
def bid(token_id: uint256):
    """
    @notice Bid `msg.value` on `token_id`.
    @param token_id The auctioned work.
    """
    raw_call(auction_house, abi_encode(token_id, method_id=method_id("bid(uint256)")), value=msg.value)


@external
def withdraw_to(receiver: address):
    """
    @notice Pull this contract's deferred refunds to `receiver`.
    @param receiver Where the ETH goes.
    """
    raw_call(auction_house, abi_encode(receiver, method_id=method_id("withdraw(address)")))


@external
def set_mode(mode_: uint256):
    """
    @notice Change the griefing mode.
    @param mode_ 0 accept refunds, 1 revert, 2 burn all gas.
    """
    self.mode = mode_


@external
@payable
def __default__():
    """
    @notice Receive (or refuse) ETH according to the mode.
    """
    if self.mode == 1:
        raise "griefing: no refunds"
    if self.mode == 2:
        for i: uint256 in range(1_000_000):
            self._sink[i] = i
