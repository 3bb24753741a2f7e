"""Hypothesis stateful tests over the auction house and the reward distributor.

Invariants after every step:
- no ETH is created or destroyed: the sum over every account that ever touches the
  contracts is constant (titanoboa charges no gas fees), and ETH in = ETH paid out +
  ETH held;
- nothing is stuck: the auction house holds exactly the live highest bids plus the
  deferred refunds; the distributor holds exactly what was funded minus what was
  claimed;
- only the highest bidder wins, and a bid that meets the minimum always succeeds,
  even when the previous bidder is a contract that reverts or burns gas on refunds;
- no double claim: each claim pays exactly the new cumulative amount minus what was
  already paid, and a repeated claim reverts; members share packed storage words
  (indexes 2k and 2k+1) and no claim changes another index's amount;
- roles (issue 11): total paid <= total received by the distributor; no account is
  paid beyond its leaf in the newest root past its window; no root is claimable
  before its challenge window; the operator's roots beyond the funds, its attempts to
  post over a pending root and its vetoes are refused; the guardian's veto in the
  window removes the root for good.
"""

from __future__ import annotations

import boa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tastemaker.core.merkle import RewardTree, assign_indexes

from .support import DISTRIBUTOR_BPS, DURATION, WINDOW, deploy_system, deployer

N_BIDDERS = 3
N_MEMBERS = 4
START_BALANCE = 10**24


class AuctionAndRewards(RuleBasedStateMachine):
    @initialize()
    def deploy(self) -> None:
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.s = deploy_system()
        self.bidders = [boa.env.generate_address(f"bidder{i}") for i in range(N_BIDDERS)]
        for b in self.bidders:
            boa.env.set_balance(b, START_BALANCE)
        # Bidders that refuse refunds: mode 1 reverts, mode 2 burns all gas.
        self.griefers = [
            deployer("GriefingBidder").deploy(self.s.auction.address, mode) for mode in (1, 2)
        ]
        self.griefer_funder = boa.env.generate_address("griefer-funder")
        boa.env.set_balance(self.griefer_funder, START_BALANCE)
        self.members = [boa.env.generate_address(f"member{i}") for i in range(N_MEMBERS)]
        self.tracked = [
            *self.bidders,
            *(g.address for g in self.griefers),
            self.griefer_funder,
            *self.members,
            self.s.operator,
            self.s.guardian,
            self.s.treasury,
            self.s.auction.address,
            self.s.distributor.address,
        ]
        self.total_eth = self._sum_balances()
        self.auctions: list[int] = []
        self.highest: dict[int, tuple[str, int]] = {}
        self.settled: set[int] = set()
        self.ever_bid = 0
        self.funded_distributor = 0
        self.cumulative = dict.fromkeys(self.members, 0)
        self.claimed = dict.fromkeys(self.members, 0)
        self.tree: RewardTree | None = None  # the claimable tree
        self.claimable_cumulative = dict.fromkeys(self.members, 0)
        # (tree, cumulative, indexes, claimable_at) of a posted root in its window
        self.pending: tuple | None = None
        self.indexes: dict[str, int] = {}
        self.epoch = 0
        self.content = 0

    def teardown(self) -> None:
        if hasattr(self, "_anchor"):
            self._anchor.__exit__(None, None, None)

    def _sum_balances(self) -> int:
        return sum(boa.env.get_balance(a) for a in self.tracked)

    def _open(self) -> list[int]:
        now = boa.env.evm.patch.timestamp
        return [
            t
            for t in self.auctions
            if t not in self.settled and now < self.s.auction.auction(t).end_time
        ]

    # ------------------------------------------------------------------ rules

    @rule()
    def start_auction(self) -> None:
        self.content += 1
        with boa.env.prank(self.s.operator):
            token_id = self.s.auction.mint_work(self.content.to_bytes(32, "big"), "ipfs://w")
            self.s.auction.create_auction(token_id)
        self.auctions.append(token_id)

    @precondition(lambda self: self._open())
    @rule(data=st.data(), who=st.integers(0, N_BIDDERS + 1), raise_pct=st.integers(-3, 80))
    def bid(self, data, who: int, raise_pct: int) -> None:
        token_id = data.draw(st.sampled_from(self._open()))
        state = self.s.auction.auction(token_id)
        minimum = (
            state.reserve_price
            if state.amount == 0
            else state.amount + state.amount * state.min_increment_bps // 10_000
        )
        amount = max(1, minimum + minimum * raise_pct // 100)
        is_griefer = who >= N_BIDDERS
        bidder = self.griefers[who - N_BIDDERS] if is_griefer else None
        address = bidder.address if is_griefer else self.bidders[who]
        if amount < minimum:
            with boa.reverts():
                self._place(bidder, address, token_id, amount)
            return
        self._place(bidder, address, token_id, amount)  # must never be blocked
        self.highest[token_id] = (address, amount)
        self.ever_bid += amount

    def _place(self, griefer, address: str, token_id: int, amount: int) -> None:
        if griefer is not None:
            griefer.bid(token_id, value=amount, sender=self.griefer_funder)
        else:
            with boa.env.prank(address):
                self.s.auction.bid(token_id, value=amount)

    @rule(seconds=st.sampled_from([60, 600, 3600, WINDOW, DURATION // 2, DURATION]))
    def wait(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)
        self._promote()

    def _now(self) -> int:
        return boa.env.evm.patch.timestamp

    def _promote(self) -> None:
        """A pending root past its window is the claimable one (the contract agrees)."""
        if self.pending is not None and self._now() >= self.pending[3]:
            self.tree, self.claimable_cumulative, _, _ = self.pending
            self.pending = None
        expected = self.tree.root if self.tree is not None else bytes(32)
        assert self.s.distributor.claimable_root() == expected

    @precondition(lambda self: any(t not in self.settled for t in self.auctions))
    @rule(data=st.data())
    def settle(self, data) -> None:
        token_id = data.draw(st.sampled_from([t for t in self.auctions if t not in self.settled]))
        ended = boa.env.evm.patch.timestamp >= self.s.auction.auction(token_id).end_time
        if not ended:
            with boa.reverts("auction: not ended"):
                self.s.auction.settle(token_id)
            return
        self.s.auction.settle(token_id)
        self.settled.add(token_id)
        winner, amount = self.highest.get(token_id, (self.s.treasury, 0))
        assert self.s.works.ownerOf(token_id) == winner
        self.funded_distributor += amount * DISTRIBUTOR_BPS // 10_000

    @rule(who=st.integers(0, 1))
    def griefer_withdraws(self, who: int) -> None:
        griefer = self.griefers[who]
        if self.s.auction.pending_withdrawals(griefer.address) == 0:
            with boa.reverts():
                griefer.withdraw_to(self.griefer_funder)
            return
        griefer.withdraw_to(self.griefer_funder)
        assert self.s.auction.pending_withdrawals(griefer.address) == 0

    @rule(data=st.data())
    def post_root(self, data) -> None:
        # Give out at most what the distributor holds and has not promised yet.
        promised = sum(self.cumulative.values())
        room = self.funded_distributor - promised
        if room <= 0:
            return
        new = dict(self.cumulative)
        for m in self.members:
            new[m] += data.draw(st.integers(0, room // N_MEMBERS), label=f"add {m}")
        # Only members with something earned have a leaf, so members join the tree in
        # different epochs; indexes as the service gives them (kept, new ones appended).
        leaves = {m: v for m, v in new.items() if v > 0}
        if not leaves:
            return
        indexes = assign_indexes(self.indexes, leaves)
        assert all(indexes[m] == i for m, i in self.indexes.items())
        tree = RewardTree.build(leaves, indexes)
        with boa.env.prank(self.s.operator):
            if self.pending is not None:  # still in its window (else promoted)
                with boa.reverts("distributor: root pending"):
                    self.s.distributor.post_root(self.epoch + 1, tree.root, tree.total)
                return
            self.s.distributor.post_root(self.epoch + 1, tree.root, tree.total)
        self.epoch += 1
        self.indexes = indexes
        self.pending = (tree, new, indexes, self._now() + WINDOW)
        self.cumulative = new

    @rule(extra=st.integers(1, 10**18))
    def operator_posts_beyond_the_funds(self, extra: int) -> None:
        thief = self.members[0]
        total = self.s.distributor.received() + extra
        tree = RewardTree.build({thief: total}, {thief: 0})
        with boa.env.prank(self.s.operator), boa.reverts("distributor: total exceeds funds"):
            self.s.distributor.post_root(self.epoch + 1, tree.root, total)

    @precondition(lambda self: self.pending is not None)
    @rule(by_guardian=st.booleans())
    def veto(self, by_guardian: bool) -> None:
        who = self.s.guardian if by_guardian else self.s.operator
        with boa.env.prank(who):
            if not by_guardian:
                with boa.reverts("access_control: account is missing role"):
                    self.s.distributor.veto_root(self.epoch)
                return
            self.s.distributor.veto_root(self.epoch)
        # The promised amounts go back to what the claimable root holds.
        self.cumulative = dict(self.claimable_cumulative)
        self.indexes = dict(self.tree.indexes) if self.tree is not None else {}
        self.pending = None
        self.epoch -= 1

    @precondition(lambda self: self.pending is not None)
    @rule(who=st.integers(0, N_MEMBERS - 1))
    def claim_pending_too_early(self, who: int) -> None:
        tree = self.pending[0]
        member = self.members[who]
        if member not in tree or tree.amount_of(member) <= self.claimed[member]:
            return
        if self.tree is not None and tree.root == self.tree.root:
            return
        with boa.reverts("distributor: root not yet claimable"):
            self.s.distributor.claim(
                tree.index_of(member), member, tree.amount_of(member), tree.proof(member)
            )

    @precondition(lambda self: self.tree is not None)
    @rule(who=st.integers(0, N_MEMBERS - 1))
    def claim(self, who: int) -> None:
        member = self.members[who]
        amount = self.claimable_cumulative[member]
        if member not in self.tree:  # no leaf yet: the next free index proves nothing
            with boa.reverts():
                self.s.distributor.claim(len(self.tree.indexes), member, 1, [])
            return
        proof = self.tree.proof(member)
        index = self.tree.index_of(member)
        if amount <= self.claimed[member]:
            with boa.reverts("distributor: nothing to claim"):
                self.s.distributor.claim(index, member, amount, proof)
            return
        before = boa.env.get_balance(member)
        self.s.distributor.claim(index, member, amount, proof)
        assert boa.env.get_balance(member) - before == amount - self.claimed[member]
        self.claimed[member] = amount

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_eth_created_or_destroyed(self) -> None:
        assert self._sum_balances() == self.total_eth

    @invariant()
    def auction_house_holds_live_bids_plus_deferred_refunds(self) -> None:
        live = sum(a for t, (_, a) in self.highest.items() if t not in self.settled)
        deferred = sum(
            self.s.auction.pending_withdrawals(a)
            for a in [*self.bidders, *(g.address for g in self.griefers), self.s.treasury]
        )
        deferred += self.s.auction.pending_withdrawals(self.s.operator)
        assert boa.env.get_balance(self.s.auction.address) == live + deferred

    @invariant()
    def distributor_holds_funded_minus_claimed(self) -> None:
        paid = sum(self.claimed.values())
        assert boa.env.get_balance(self.s.distributor.address) == self.funded_distributor - paid
        for m in self.members:
            if m in self.indexes:  # members 0-3 fill words 0 and 1, both halves
                assert self.s.distributor.claimed(self.indexes[m]) == self.claimed[m]
            else:
                assert self.claimed[m] == 0
        assert self.s.distributor.claimed(N_MEMBERS) == 0  # no leaf, no cross-talk

    @invariant()
    def paid_at_most_received_and_leaves(self) -> None:
        paid = sum(self.claimed.values())
        assert paid <= self.s.distributor.received() == self.funded_distributor
        for m in self.members:
            assert self.claimed[m] <= self.claimable_cumulative[m]

    @invariant()
    def no_root_claimable_before_its_window(self) -> None:
        if self.pending is not None:
            assert self._now() < self.pending[3]
            assert self.s.distributor.claimable_root() != self.pending[0].root or (
                self.tree is not None and self.tree.root == self.pending[0].root
            )

    @invariant()
    def highest_bid_is_the_recorded_one(self) -> None:
        for token_id, (bidder, amount) in self.highest.items():
            state = self.s.auction.auction(token_id)
            assert (state.bidder, state.amount) == (bidder, amount)


AuctionAndRewards.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_auction_and_rewards = AuctionAndRewards.TestCase
