# pragma version ~=0.4.3
"""
@title AuctionHouse
@notice English auctions for minted works, one per token (Nouns-style). A reserve
        price, a duration, a time buffer (a bid in the last `time_buffer` seconds
        extends the end) and a minimum increment. The outbid bidder is refunded with
        a gas-capped call; if that call fails the amount is credited for `withdraw`,
        so a hostile bidder can neither block nor grief the next bid. Anyone settles
        after the end: the work goes to the winner and the proceeds are split between
        the reward distributor, the operator and the treasury (the rest); with no
        bids the work goes to the treasury. Roles (snekmate access_control): the
        operator hot key mints a round's winner into this contract and starts its
        auction; the admin (the timelock) changes parameters, payees and roles. An
        auction keeps the reserve, increment, buffer and split it was created with.
@dev Each auction lives in two storage words so a bid costs two cold reads and one
     write: `_meta` packs the schedule and parameters, `_bid` packs the highest bid
     (amount in the high 96 bits, bidder in the low 160 bits).
"""

from snekmate.auth import access_control

initializes: access_control

exports: (
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    access_control.supportsInterface,
)


interface IWorks:
    def ownerOf(token_id: uint256) -> address: view
    def transferFrom(owner: address, to: address, token_id: uint256): payable
    def mint(to: address, content_hash_: bytes32, uri: String[432]) -> uint256: nonpayable
    def freeze_metadata(token_id: uint256): nonpayable
    def token_of_content(content_hash_: bytes32) -> uint256: view


OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")


event AuctionCreated:
    token_id: indexed(uint256)
    start_time: uint256
    end_time: uint256
    reserve_price: uint256

event AuctionBid:
    token_id: indexed(uint256)
    bidder: indexed(address)
    amount: uint256
    extended: bool

event AuctionExtended:
    token_id: indexed(uint256)
    end_time: uint256

event AuctionSettled:
    token_id: indexed(uint256)
    winner: indexed(address)
    amount: uint256
    to_distributor: uint256
    to_operator: uint256
    to_treasury: uint256

event PaymentDeferred:
    account: indexed(address)
    amount: uint256

event Withdrawn:
    account: indexed(address)
    to: address
    amount: uint256

event ParamsChanged:
    reserve_price: uint256
    duration: uint256
    time_buffer: uint256
    min_increment_bps: uint256

event SharesChanged:
    distributor_bps: uint256
    operator_bps: uint256

event PayeesChanged:
    operator_payee: address
    treasury: address


struct Auction:
    start_time: uint256
    end_time: uint256
    reserve_price: uint256
    time_buffer: uint256
    min_increment_bps: uint256
    settled: bool
    bidder: address
    amount: uint256
    distributor_bps: uint256
    operator_bps: uint256


BPS: constant(uint256) = 10_000
# Gas given to a refund or payout call; enough for a smart-contract wallet, too
# little to do harm. A failed call falls back to `pending_withdrawals`.
PAYOUT_GAS: constant(uint256) = 30_000
MAX_AMOUNT: constant(uint256) = (1 << 96) - 1
ADDRESS_MASK: constant(uint256) = (1 << 160) - 1
# _meta layout (bit offsets)
RESERVE_MASK: constant(uint256) = (1 << 96) - 1
START_SHIFT: constant(uint256) = 96
END_SHIFT: constant(uint256) = 136
BUFFER_SHIFT: constant(uint256) = 176
INCREMENT_SHIFT: constant(uint256) = 208
SETTLED_BIT: constant(uint256) = 1 << 224
EXISTS_BIT: constant(uint256) = 1 << 225
DISTRIBUTOR_SHIFT: constant(uint256) = 226
OPERATOR_SHIFT: constant(uint256) = 240
MASK14: constant(uint256) = (1 << 14) - 1
MASK40: constant(uint256) = (1 << 40) - 1
MASK32: constant(uint256) = (1 << 32) - 1
MASK16: constant(uint256) = (1 << 16) - 1

works: public(immutable(IWorks))
distributor: public(immutable(address))

operator_payee: public(address)
treasury: public(address)
reserve_price: public(uint256)
duration: public(uint256)
time_buffer: public(uint256)
min_increment_bps: public(uint256)
distributor_bps: public(uint256)
operator_bps: public(uint256)
pending_withdrawals: public(HashMap[address, uint256])

_meta: HashMap[uint256, uint256]
_bid: HashMap[uint256, uint256]


@deploy
def __init__(
    works_: IWorks,
    distributor_: address,
    treasury_: address,
    operator_: address,
    admin_: address,
    reserve_price_: uint256,
    duration_: uint256,
    time_buffer_: uint256,
    min_increment_bps_: uint256,
    distributor_bps_: uint256,
    operator_bps_: uint256,
):
    """
    @notice Deploy the auction house. `operator_` gets OPERATOR_ROLE and is the
            payee of the operator share; `admin_` gets the admin role (the deployer
            keeps it only when it is `admin_`).
    @param works_ The Works collection whose tokens are sold.
    @param distributor_ The RewardDistributor receiving the voters' share.
    @param treasury_ Receives the treasury share and unsold works.
    @param operator_ Mints winners and starts auctions; receives the operator share.
    @param admin_ Holder of the admin role (the timelock).
    @param reserve_price_ Minimum first bid (wei).
    @param duration_ Auction length in seconds.
    @param time_buffer_ A bid this close to the end extends it to now + time_buffer_.
    @param min_increment_bps_ Minimum raise over the previous bid, in basis points.
    @param distributor_bps_ Share of proceeds to the distributor, in basis points.
    @param operator_bps_ Share of proceeds to the operator, in basis points.
    """
    access_control.__init__()
    access_control._grant_role(OPERATOR_ROLE, operator_)
    if admin_ != msg.sender:
        access_control._grant_role(access_control.DEFAULT_ADMIN_ROLE, admin_)
        access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    works = works_
    distributor = distributor_
    self._set_payees(operator_, treasury_)
    self._set_params(reserve_price_, duration_, time_buffer_, min_increment_bps_)
    self._set_shares(distributor_bps_, operator_bps_)


@external
def mint_work(content_hash_: bytes32, uri: String[432]) -> uint256:
    """
    @notice Mint a round's winner straight into this contract (the only way works
            are minted). Operator only.
    @param content_hash_ Hash of the work's media (non-zero, not minted before).
    @param uri Token URI of the metadata JSON.
    @return The new token id.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    return extcall works.mint(self, content_hash_, uri)


@external
def create_auction(token_id: uint256):
    """
    @notice Start the auction of `token_id`, which this contract must already own,
            and freeze its metadata. Operator only. The auction keeps the current
            reserve, duration, buffer, increment and split for good.
    @param token_id The work to sell.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert self._meta[token_id] == 0, "auction: already created"
    assert staticcall works.ownerOf(token_id) == self, "auction: work not held by auction house"
    extcall works.freeze_metadata(token_id)
    end_time: uint256 = block.timestamp + self.duration
    self._meta[token_id] = (
        (self.operator_bps << OPERATOR_SHIFT)
        | (self.distributor_bps << DISTRIBUTOR_SHIFT)
        | EXISTS_BIT
        | (self.min_increment_bps << INCREMENT_SHIFT)
        | (self.time_buffer << BUFFER_SHIFT)
        | (end_time << END_SHIFT)
        | (block.timestamp << START_SHIFT)
        | self.reserve_price
    )
    log AuctionCreated(
        token_id=token_id, start_time=block.timestamp, end_time=end_time, reserve_price=self.reserve_price
    )


@external
@payable
@nonreentrant
def bid(token_id: uint256):
    """
    @notice Bid `msg.value` on `token_id`. The previous highest bidder is refunded
            (or credited to `pending_withdrawals` if the refund call fails).
    @param token_id The work being auctioned.
    """
    meta: uint256 = self._meta[token_id]
    assert meta & EXISTS_BIT != 0, "auction: no such auction"
    assert meta & SETTLED_BIT == 0, "auction: already settled"
    end_time: uint256 = (meta >> END_SHIFT) & MASK40
    assert block.timestamp < end_time, "auction: ended"
    assert msg.value <= MAX_AMOUNT, "auction: bid too large"

    previous: uint256 = self._bid[token_id]
    previous_amount: uint256 = previous >> 160
    if previous_amount == 0:
        assert msg.value >= meta & RESERVE_MASK and msg.value > 0, "auction: below reserve price"
    else:
        increment: uint256 = (meta >> INCREMENT_SHIFT) & MASK16
        assert msg.value > previous_amount, "auction: bid too low"
        assert msg.value >= previous_amount + previous_amount * increment // BPS, "auction: bid too low"

    self._bid[token_id] = (msg.value << 160) | convert(msg.sender, uint256)

    buffer: uint256 = (meta >> BUFFER_SHIFT) & MASK32
    extended: bool = end_time - block.timestamp < buffer
    if extended:
        end_time = block.timestamp + buffer
        self._meta[token_id] = (meta & ~(MASK40 << END_SHIFT)) | (end_time << END_SHIFT)
    log AuctionBid(token_id=token_id, bidder=msg.sender, amount=msg.value, extended=extended)
    if extended:
        log AuctionExtended(token_id=token_id, end_time=end_time)

    if previous_amount != 0:
        self._pay(self._address(previous), previous_amount)


@external
@nonreentrant
def settle(token_id: uint256):
    """
    @notice Close an ended auction (anyone may call): the work goes to the highest
            bidder and the proceeds are split; with no bids the work goes to the treasury.
    @param token_id The auctioned work.
    """
    meta: uint256 = self._meta[token_id]
    assert meta & EXISTS_BIT != 0, "auction: no such auction"
    assert meta & SETTLED_BIT == 0, "auction: already settled"
    assert block.timestamp >= (meta >> END_SHIFT) & MASK40, "auction: not ended"
    self._meta[token_id] = meta | SETTLED_BIT

    highest: uint256 = self._bid[token_id]
    amount: uint256 = highest >> 160
    treasury_: address = self.treasury
    if amount == 0:
        extcall works.transferFrom(self, treasury_, token_id)
        log AuctionSettled(
            token_id=token_id, winner=empty(address), amount=0, to_distributor=0, to_operator=0, to_treasury=0
        )
        return

    winner: address = self._address(highest)
    # A plain transfer: a winner that cannot take ERC-721 hooks must not block settlement.
    extcall works.transferFrom(self, winner, token_id)
    to_distributor: uint256 = amount * ((meta >> DISTRIBUTOR_SHIFT) & MASK14) // BPS
    to_operator: uint256 = amount * ((meta >> OPERATOR_SHIFT) & MASK14) // BPS
    to_treasury: uint256 = amount - to_distributor - to_operator
    if to_distributor != 0:
        raw_call(distributor, b"", value=to_distributor)
    if to_operator != 0:
        self._pay(self.operator_payee, to_operator)
    if to_treasury != 0:
        self._pay(treasury_, to_treasury)
    log AuctionSettled(
        token_id=token_id,
        winner=winner,
        amount=amount,
        to_distributor=to_distributor,
        to_operator=to_operator,
        to_treasury=to_treasury,
    )


@external
@nonreentrant
def withdraw(to: address = msg.sender):
    """
    @notice Send the caller's deferred refunds and payouts to `to`.
    @param to Receiver (defaults to the caller), useful when the caller cannot take ETH.
    """
    amount: uint256 = self.pending_withdrawals[msg.sender]
    assert amount != 0, "auction: nothing to withdraw"
    self.pending_withdrawals[msg.sender] = 0
    raw_call(to, b"", value=amount)
    log Withdrawn(account=msg.sender, to=to, amount=amount)


@external
@view
def auction(token_id: uint256) -> Auction:
    """
    @notice The state of the auction of `token_id` (all zero if none).
    @param token_id The work.
    @return The schedule, parameters, settled flag and highest bid.
    """
    meta: uint256 = self._meta[token_id]
    highest: uint256 = self._bid[token_id]
    return Auction(
        start_time=(meta >> START_SHIFT) & MASK40,
        end_time=(meta >> END_SHIFT) & MASK40,
        reserve_price=meta & RESERVE_MASK,
        time_buffer=(meta >> BUFFER_SHIFT) & MASK32,
        min_increment_bps=(meta >> INCREMENT_SHIFT) & MASK16,
        settled=meta & SETTLED_BIT != 0,
        bidder=self._address(highest),
        amount=highest >> 160,
        distributor_bps=(meta >> DISTRIBUTOR_SHIFT) & MASK14,
        operator_bps=(meta >> OPERATOR_SHIFT) & MASK14,
    )


@external
def set_params(reserve_price_: uint256, duration_: uint256, time_buffer_: uint256, min_increment_bps_: uint256):
    """
    @notice Change the parameters used by auctions created from now on. Admin
            (timelock) only; running auctions keep theirs.
    @param reserve_price_ Minimum first bid (wei).
    @param duration_ Auction length in seconds.
    @param time_buffer_ Anti-sniping extension window in seconds.
    @param min_increment_bps_ Minimum raise, in basis points.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_params(reserve_price_, duration_, time_buffer_, min_increment_bps_)


@external
def set_shares(distributor_bps_: uint256, operator_bps_: uint256):
    """
    @notice Change the split of proceeds of auctions created from now on (the
            treasury gets the rest). Admin (timelock) only; running auctions keep theirs.
    @param distributor_bps_ Share to the reward distributor, basis points.
    @param operator_bps_ Share to the operator, basis points.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_shares(distributor_bps_, operator_bps_)


@external
def set_payees(operator_payee_: address, treasury_: address):
    """
    @notice Change who receives the operator share and the treasury share (and
            unsold works). Admin (timelock) only. The operator role itself is
            granted and revoked with `grantRole` / `revokeRole`.
    @param operator_payee_ New receiver of the operator share.
    @param treasury_ New treasury.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_payees(operator_payee_, treasury_)


@internal
def _pay(to: address, amount: uint256):
    # Gas-capped and without copying return data, so the receiver can neither
    # revert the caller nor make it run out of gas; a failure becomes a credit.
    success: bool = raw_call(to, b"", value=amount, gas=PAYOUT_GAS, revert_on_failure=False)
    if not success:
        self.pending_withdrawals[to] += amount
        log PaymentDeferred(account=to, amount=amount)


@internal
@pure
def _address(packed_bid: uint256) -> address:
    return convert(convert(packed_bid & ADDRESS_MASK, uint160), address)


@internal
def _set_params(reserve_price_: uint256, duration_: uint256, time_buffer_: uint256, min_increment_bps_: uint256):
    assert reserve_price_ <= MAX_AMOUNT, "auction: reserve too large"
    assert duration_ > 0 and duration_ <= MASK32, "auction: bad duration"
    assert time_buffer_ <= MASK32, "auction: bad time buffer"
    assert min_increment_bps_ <= BPS, "auction: bad increment"
    self.reserve_price = reserve_price_
    self.duration = duration_
    self.time_buffer = time_buffer_
    self.min_increment_bps = min_increment_bps_
    log ParamsChanged(
        reserve_price=reserve_price_,
        duration=duration_,
        time_buffer=time_buffer_,
        min_increment_bps=min_increment_bps_,
    )


@internal
def _set_shares(distributor_bps_: uint256, operator_bps_: uint256):
    assert distributor_bps_ + operator_bps_ <= BPS, "auction: shares exceed 100%"
    self.distributor_bps = distributor_bps_
    self.operator_bps = operator_bps_
    log SharesChanged(distributor_bps=distributor_bps_, operator_bps=operator_bps_)


@internal
def _set_payees(operator_payee_: address, treasury_: address):
    assert operator_payee_ != empty(address) and treasury_ != empty(address), "auction: zero address"
    self.operator_payee = operator_payee_
    self.treasury = treasury_
    log PayeesChanged(operator_payee=operator_payee_, treasury=treasury_)
