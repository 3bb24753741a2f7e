"""A small real deployment for round-service tests: embedded anvil, SQLite, CPPN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account.signers.local import LocalAccount

from tastemaker.chain.client import ChainClient, dev_account
from tastemaker.chain.deployment import DeployParams
from tastemaker.chain.settings import ChainSettings
from tastemaker.core.ballots import Vote, sign_vote
from tastemaker.core.voting_power import allowance
from tastemaker.rounds.curation import RandomCurator
from tastemaker.rounds.service import RoundContext, record_impression
from tastemaker.rounds.settings import RoundSettings
from tastemaker.rounds.votes import cast_vote, vote_domain
from tastemaker.store.db import Database, sqlite_url
from tastemaker.store.media import MediaStore
from tastemaker.store.tables import PoolEntry, Round

ETHER = 10**18
T0 = datetime(2026, 11, 2, tzinfo=UTC)
STAKES = {1: 100 * ETHER, 2: 50 * ETHER, 3: 10 * ETHER, 4: ETHER // 2}  # 4 earns nothing
BIDDER = 5


@dataclass
class Scenario:
    ctx: RoundContext
    members: dict[int, LocalAccount]

    @property
    def chain(self) -> ChainClient:
        return self.ctx.chain


def staked_context(
    home: Path, stakes: dict[int, int], settings: RoundSettings
) -> tuple[RoundContext, dict[int, LocalAccount]]:
    """A deployment on a fresh embedded chain under ``home``, dev accounts staked."""
    chain = ChainClient.connect(ChainSettings(home=home))
    chain.deploy(
        DeployParams(treasury=dev_account(9).address, auction_duration=3600, time_buffer=60)
    )
    members = {i: dev_account(i) for i in stakes}
    for i, stake in stakes.items():
        chain.transfer_token(members[i].address, stake)
        chain.stake(stake, sender=members[i])
    ctx = RoundContext(
        db=Database(sqlite_url(home / "tastemaker.db")),
        chain=chain,
        media=MediaStore(home / "media"),
        settings=settings,
        curator=RandomCurator(),
        home=home,
        workers=1,
    )
    return ctx, members


def build(home: Path) -> Scenario:
    settings = RoundSettings(
        candidates=16, new_works=6, pool_size=10, image_size=32, voting_seconds=3600
    )
    ctx, members = staked_context(home, STAKES, settings)
    return Scenario(ctx, members)


def vote_on_pool(scenario: Scenario, number: int, now: datetime) -> None:
    """Each member looks at the first works of the pool and votes on three of them."""
    ctx = scenario.ctx
    with ctx.db.unit_of_work() as session:
        round_ = session.get(Round, number)
        pool = list(
            session.query(PoolEntry.work).filter_by(round=number).order_by(PoolEntry.position)
        )
        domain = vote_domain(round_.chain_id, round_.verifying_contract)
        for i, member in scenario.members.items():
            for (work,) in pool[:5]:
                record_impression(session, number, member.address, work)
            for nonce, (work,) in enumerate(pool[i - 1 : i + 2], start=1):
                direction = 1 if nonce < 3 else -1
                vote = Vote(member.address, number, work, direction, STAKES[i] // 4, nonce)
                cast_vote(
                    session,
                    vote.message_json(),
                    sign_vote(vote, domain, member.key),
                    lambda voter, r: allowance(
                        STAKES[_index(scenario, voter)], ctx.settings.voting_rules()
                    ),
                    now=now,
                )


def _index(scenario: Scenario, address: str) -> int:
    return next(i for i, m in scenario.members.items() if m.address == address)


def after_voting(hours: int = 2) -> datetime:
    return T0 + timedelta(hours=hours)
