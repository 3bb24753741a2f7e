"""The demo loop: a simulated community stakes, votes, bids and claims, week by week,
through the real round service, the embedded chain and SQLite.

Simulated time: week ``w`` opens at ``START + w * 7 days``; the chain's clock is moved
forward for the auctions. Every vote is an EIP-712 message signed by the member's key
and checked by the same intake as the web API.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from tastemaker.chain.client import ChainClient
from tastemaker.chain.deployment import DeployParams
from tastemaker.chain.settings import ChainSettings
from tastemaker.core.audit import verify_record
from tastemaker.core.ballots import Vote, sign_vote
from tastemaker.core.voting_power import Allowance, allowance
from tastemaker.demo.members import DemoMember, demo_members, onboard
from tastemaker.generate.registry import get_engine
from tastemaker.rounds import states
from tastemaker.rounds.curation import Candidate, Curator
from tastemaker.rounds.exposure import pool_size_for
from tastemaker.rounds.record import export_round
from tastemaker.rounds.service import (
    RoundContext,
    claim_data,
    close_round,
    open_round,
    pool_candidates,
    record_impression,
    settle_round,
)
from tastemaker.rounds.settings import RoundSettings
from tastemaker.rounds.votes import VoteRefused, cast_vote, vote_domain
from tastemaker.sim.community import Community
from tastemaker.store.db import Database
from tastemaker.store.media import MediaStore, write_atomic
from tastemaker.store.tables import Auction, Reward, Round
from tastemaker.taste.embed_image import load_image

START = datetime(2026, 1, 5, 12, tzinfo=UTC)
WEEK = timedelta(days=7)
DEMO_ROUND = RoundSettings(
    candidates=400, new_works=60, pool_size=150, image_size=128, voting_seconds=6 * 24 * 3600
)


def demo_round(n_members: int, views_each: int) -> RoundSettings:
    """DEMO_ROUND with a pool the members can judge (decision 0032): about 16 views a
    work, 40% of it new each week (50 members: 75 works, 30 new)."""
    pool = pool_size_for(n_members, views_each)
    return DEMO_ROUND.model_copy(update={"pool_size": pool, "new_works": max(1, pool * 2 // 5)})


# How the simulated members are shown works: the vote page's own policy
# (rounds.exposure); see Community.vote_round and docs/tally.md.
DEMO_EXPOSURE = "adaptive"


@dataclass
class WeekResult:
    round: int
    winner: str | None
    token_id: int | None
    winner_approval: float  # hidden-taste approval of the winner (simulator truth)
    pool_approval: float  # mean hidden approval of the works in the pool
    best_approval: float  # the best work of the pool by hidden approval (the oracle)
    stake_winner_approval: float  # the winner's approval with members weighted by stake
    stake_best_approval: float
    votes_to_flip: int | None  # counted votes whose removal changes the winner (core.flip)
    votes: int
    voters: int
    refused: int
    model_auc: float | None  # the model fitted before the round, on this round's votes
    sale_wei: int
    voter_pool_wei: int
    verified: bool
    record: Path


@dataclass
class DemoResult:
    home: Path
    community: str = "simulated members with hidden tastes"  # who judged, for the report
    weeks: list[WeekResult] = field(default_factory=list)
    rewards: dict[str, int] = field(default_factory=dict)  # address -> wei earned
    claimed: dict[str, int] = field(default_factory=dict)  # address -> wei received
    labels: dict[str, str] = field(default_factory=dict)  # address -> sim member id


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(set(labels.tolist())) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def _look_image(candidate: Candidate) -> object:
    return load_image(candidate.path)


@dataclass
class JokesSource:
    """The jokes demo's input: texts to import and the Jester ratings members replay."""

    jokes: Path
    ratings: Path


@contextmanager
def _submissions_dir(folder: Path) -> Iterator[None]:
    # The submissions engine (and generation workers, which inherit the environment)
    # draw from the folder named here.
    before = os.environ.get("TASTEMAKER_SUBMISSIONS_DIR")
    os.environ["TASTEMAKER_SUBMISSIONS_DIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TASTEMAKER_SUBMISSIONS_DIR", None)
        else:
            os.environ["TASTEMAKER_SUBMISSIONS_DIR"] = before


def run_demo(
    home: Path,
    weeks: int,
    n_members: int,
    curator: Curator,
    seed: int = 7,
    round_settings: RoundSettings | None = None,  # None: demo_round(n_members, ...)
    exposure: str = DEMO_EXPOSURE,
    say: Callable[[str], None] = print,
    on_progress: Callable[[int], None] | None = None,
    jokes: JokesSource | None = None,
) -> DemoResult:
    """Run the demo; with ``jokes``, rounds of imported jokes judged by Jester members
    (demo.jester_members) instead of CPPN images judged by hidden tastes."""
    if jokes is not None:
        return _run_jokes(home, weeks, n_members, curator, seed, jokes, exposure, say,
                          on_progress, round_settings)  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    if round_settings is None:
        round_settings = demo_round(n_members, Community().views_per_member)
    result = DemoResult(home)
    rng = np.random.default_rng(seed)
    with _demo_context(home, round_settings, curator, say, on_progress) as ctx:
        community = Community(n_members=n_members, seed=seed)
        engine = get_engine("cppn")
        reference = []
        ref_rng = np.random.default_rng(seed + 1)
        while len(reference) < 60:  # typical works, to calibrate the members' thresholds
            image = engine.render(engine.random(ref_rng), round_settings.image_size)
            if engine.screen(image):
                reference.append(image)
        community.calibrate(reference)
        members = _onboard_members(ctx.chain, community, seed, result, say)
        for week in range(weeks):
            result.weeks.append(_week(ctx, community, members, week, rng, say, result, exposure))
    return result


@contextmanager
def _demo_context(
    home: Path,
    round_settings: RoundSettings,
    curator: Curator,
    say: Callable[[str], None],
    on_progress: Callable[[int], None] | None,
    engine_name: str = "cppn",
) -> Iterator[RoundContext]:
    """The demo home's database and embedded chain (contracts deployed on first use) as a
    round context; both are closed on the way out."""
    db = Database(f"sqlite:///{home / 'tastemaker.db'}")
    chain = ChainClient.connect(ChainSettings(home=home))
    try:
        if not chain.has_deployment():
            say("deploying contracts on the embedded chain")
            chain.deploy(DeployParams(treasury=chain.signer.address))
        yield RoundContext(
            db=db,
            chain=chain,
            media=MediaStore(home / "media"),
            settings=round_settings,
            curator=curator,
            home=home,
            engine_name=engine_name,
            on_progress=on_progress,
        )
    finally:
        db.dispose()
        chain.close()


def _onboard_members(
    chain: ChainClient,
    community: object,
    seed: int,
    result: DemoResult,
    say: Callable[[str], None],
) -> list[DemoMember]:
    """The community's members as funded, staked demo accounts (labelled in the report)."""
    members = demo_members(community, seed)
    result.labels = {m.address: m.sim.member_id for m in members}
    say(f"onboarding {len(members)} members (fund, stake)")
    onboard(chain, members)
    return members


def _run_jokes(
    home: Path,
    weeks: int,
    n_members: int,
    curator: Curator,
    seed: int,
    jokes: JokesSource,
    exposure: str,
    say: Callable[[str], None],
    on_progress: Callable[[int], None] | None,
    round_settings: RoundSettings | None,
) -> DemoResult:
    from tastemaker.demo.jester_members import JesterCommunity, JesterRatings, joke_round_sizes
    from tastemaker.generate.submissions import import_submissions
    from tastemaker.generate.submissions.read import read_submissions

    # Every input is checked before anything is written under home.
    items = read_submissions(jokes.jokes)
    ratings = JesterRatings.read(jokes.ratings, [item.item_id for item in items])
    community = JesterCommunity(ratings, n_members, seed=seed)
    if round_settings is None or round_settings is DEMO_ROUND:
        new, pool = joke_round_sizes(len(items), weeks)
        round_settings = DEMO_ROUND.model_copy(
            update={"candidates": len(items), "new_works": new, "pool_size": pool}
        )
    home.mkdir(parents=True, exist_ok=True)
    imported = home / "submissions"
    say(f"importing {len(items)} works from {jokes.jokes}")
    import_submissions(jokes.jokes, imported)
    result = DemoResult(
        home, community=f"members replaying real Jester raters ({len(ratings.people)} eligible)"
    )
    rng = np.random.default_rng(seed)
    with (
        _submissions_dir(imported),
        _demo_context(home, round_settings, curator, say, on_progress, "submissions") as ctx,
    ):
        members = _onboard_members(ctx.chain, community, seed, result, say)
        for week in range(weeks):
            result.weeks.append(
                _week(ctx, community, members, week, rng, say, result, exposure,
                      look=community.look)
            )  # fmt: skip
    return result


def _week(
    ctx: RoundContext,
    community: Community,
    members: list[DemoMember],
    week: int,
    rng: np.random.Generator,
    say: Callable[[str], None],
    result: DemoResult,
    exposure: str = DEMO_EXPOSURE,
    look: Callable[[Candidate], object] = _look_image,
) -> WeekResult:
    chain = ctx.chain
    opens = START + week * WEEK
    say(f"week {week + 1}: learning, generating {ctx.settings.candidates} candidates, curating")
    number = open_round(ctx, now=opens)
    with ctx.db.unit_of_work() as session:
        pool = pool_candidates(session, ctx.media, number)
        round_ = session.get(Round, number)
        domain = vote_domain(round_.chain_id, round_.verifying_contract)
    images = [look(c) for c in pool]  # what the members judge: pixels, or a joke's id
    work_ids = ["0x" + c.work.hex() for c in pool]
    up = community.up_probability(images)
    approval = up.mean(axis=0)
    stake = np.array([m.voting_power for m in community.members])
    stake_approval = stake @ up / stake.sum()

    sim_votes, impressions = community.vote_round(work_ids, images, rng, exposure=exposure)
    by_sim = {m.sim.member_id: m for m in members}
    per_member: dict[str, list] = defaultdict(list)
    for vote in sim_votes:
        per_member[vote.member_id].append(vote)
    model_auc = _model_auc(ctx.curator, sim_votes, by_sim)

    rules = ctx.settings.voting_rules()
    stakes = {m.address: chain.staked(m.address) for m in members}

    def allowance_of(voter: str, round_row: object) -> Allowance:
        return allowance(stakes.get(voter, 0), rules)

    cast = refused = 0
    voting_time = opens + timedelta(hours=1)
    with ctx.db.unit_of_work() as session:
        for shown in impressions:
            member = by_sim[shown.member_id]
            work = bytes.fromhex(shown.work_id[2:])
            record_impression(session, number, member.address, work, voting_time)
    for member_id, votes in per_member.items():
        member = by_sim[member_id]
        # VP (not stake: the curve may bend it) split evenly over the votes cast.
        share = allowance_of(member.address, None).vp // len(votes)
        if share == 0:
            continue
        with ctx.db.unit_of_work() as session:
            for nonce, vote in enumerate(votes, start=1):
                ballot = Vote(member.address, number, vote.work_id, vote.direction, share, nonce)
                signature = sign_vote(ballot, domain, member.account.key)
                try:
                    cast_vote(session, ballot.message_json(), signature, allowance_of, voting_time)
                    cast += 1
                except VoteRefused:
                    refused += 1

    say(f"week {week + 1}: {cast} signed votes from {len(per_member)} members; closing")
    state = close_round(ctx, number, now=opens + timedelta(seconds=ctx.settings.voting_seconds))
    sale = 0
    with ctx.db.unit_of_work() as session:
        round_ = session.get(Round, number)
        winner, token_id = round_.winner, round_.token_id
        flip = round_.votes_to_flip
    if state == states.AUCTION and token_id is not None:
        sale = _auction(
            chain, members, token_id, float(approval[work_ids.index("0x" + winner.hex())]), rng
        )
    chain.advance_time(int(chain.deployment.params["auction_duration"]) + 3600)
    settle_round(ctx, number)

    _claims(ctx, members, result)
    record = export_round_to(ctx, number)
    verified = verify_record(record_json(record)).ok
    with ctx.db.unit_of_work() as session:
        auction = session.get(Auction, number)
    winner_index = work_ids.index("0x" + winner.hex()) if winner else None
    return WeekResult(
        round=number,
        winner="0x" + winner.hex() if winner else None,
        token_id=token_id,
        winner_approval=float(approval[winner_index]) if winner_index is not None else 0.0,
        pool_approval=float(approval.mean()),
        best_approval=float(approval.max()),
        stake_winner_approval=float(stake_approval[winner_index])
        if winner_index is not None
        else 0.0,
        stake_best_approval=float(stake_approval.max()),
        votes_to_flip=int(flip["count"]) if flip else None,
        votes=cast,
        voters=len(per_member),
        refused=refused,
        model_auc=model_auc,
        sale_wei=sale,
        voter_pool_wei=int(auction.voter_pool or 0) if auction else 0,
        verified=verified,
        record=record,
    )


def _model_auc(curator: Curator, sim_votes: list, by_sim: dict[str, DemoMember]) -> float | None:
    """How well the model fitted before this round predicts this round's votes."""
    predict = getattr(curator, "predict", None)
    if predict is None or not sim_votes:
        return None
    members = [by_sim[v.member_id].address for v in sim_votes]
    works = [v.work_id for v in sim_votes]
    scores = predict(members, works)
    if scores is None:
        return None
    labels = np.array([v.direction > 0 for v in sim_votes], dtype=int)
    return _auc(labels, np.asarray(scores))


def _auction(
    chain: ChainClient,
    members: list[DemoMember],
    token_id: int,
    approval: float,
    rng: np.random.Generator,
) -> int:
    """A few members who like the winner bid against each other up to their value."""
    bidders = [
        members[i] for i in rng.choice(len(members), size=min(4, len(members)), replace=False)
    ]
    reserve = chain.auction(token_id).reserve_price
    values = {
        b.address: int(reserve * (1 + 20 * approval * rng.uniform(0.5, 1.5))) for b in bidders
    }
    for _ in range(3):
        for bidder in bidders:
            state = chain.auction(token_id)
            if state.bidder == bidder.address:
                continue
            offer = state.min_next_bid()
            if offer <= values[bidder.address]:
                chain.bid(token_id, offer, sender=bidder.account)
    return chain.auction(token_id).amount


def _claims(ctx: RoundContext, members: list[DemoMember], result: DemoResult) -> None:
    chain = ctx.chain
    with ctx.db.unit_of_work() as session:
        earned: dict[str, int] = defaultdict(int)
        for reward in session.scalars(select(Reward)):
            earned[reward.account] += reward.amount
    result.rewards = dict(earned)
    for member in members:
        data = claim_data(ctx, member.address)
        if data is None or data.cumulative <= chain.claimed(data.index):
            continue
        before = chain.balance(member.address)
        receipt = chain.claim(
            data.index, member.address, data.cumulative, data.proof, sender=member.account
        )
        gas = receipt.gas_used * int(receipt.receipt["effectiveGasPrice"])
        result.claimed[member.address] = (
            result.claimed.get(member.address, 0) + chain.balance(member.address) - before + gas
        )


def export_round_to(ctx: RoundContext, number: int) -> Path:
    import json

    with ctx.db.unit_of_work() as session:
        record = export_round(session, number, ctx.media, ctx.chain.deployment)
    path = ctx.home / "records" / f"round-{number:03d}.json"
    write_atomic(path, (json.dumps(record, indent=1) + "\n").encode())
    return path


def record_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text())
