"""The database schema (SQLAlchemy 2 declarative). Change it only with a migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tastemaker.store.types import Hash32, Uint256

ADDRESS = String(42)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    label: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GenomeRow(Base):
    __tablename__ = "genomes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    engine: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    parents: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Work(Base):
    """A rendered candidate. ``content_hash`` (sha256 of the file) is what votes name."""

    __tablename__ = "works"

    content_hash: Mapped[bytes] = mapped_column(Hash32, primary_key=True)
    cid: Mapped[str] = mapped_column(String(100), unique=True)
    genome_id: Mapped[str] = mapped_column(ForeignKey("genomes.id"), index=True)
    # image/png, text/plain, text/markdown (core.media); stored as <cid>.<extension>
    media_type: Mapped[str] = mapped_column(String(40), server_default="image/png")
    size: Mapped[int] = mapped_column(Integer)
    round_created: Mapped[int] = mapped_column(Integer, index=True)
    predicted_approval: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Round(Base):
    """One weekly round and where it stands in the loop (see rounds.states)."""

    __tablename__ = "rounds"

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    verifying_contract: Mapped[str] = mapped_column(ADDRESS)
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    open_block: Mapped[int | None] = mapped_column(Integer)
    close_block: Mapped[int | None] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)  # VP curve, tally prior, shares
    winner: Mapped[bytes | None] = mapped_column(Hash32)
    token_id: Mapped[int | None] = mapped_column(Integer)
    # core.flip's result as JSON, written at close (None: no winner, or closed before 0004)
    votes_to_flip: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PoolEntry(Base):
    """A work in a round's voting pool (the pool rolls: works stay until culled)."""

    __tablename__ = "pool_entries"

    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    work: Mapped[bytes] = mapped_column(Hash32, ForeignKey("works.content_hash"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))  # "curated", "surprise", "carried"
    # How many members were shown this work this round: the impressions table counted
    # once, so the vote page orders by exposure without scanning every impression.
    shown: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Impression(Base):
    """A member was shown a work in a round: the tally divides votes by exposure."""

    __tablename__ = "impressions"
    __table_args__ = (UniqueConstraint("round", "member", "work"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"), index=True)
    member: Mapped[str] = mapped_column(ADDRESS)
    work: Mapped[bytes] = mapped_column(Hash32)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VoteRow(Base):
    """A signed vote exactly as received; ``current`` marks the one that counts."""

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_round_voter_work", "round", "voter", "work"),)

    id: Mapped[bytes] = mapped_column(Hash32, primary_key=True)  # the EIP-712 digest
    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"))
    voter: Mapped[str] = mapped_column(ADDRESS)
    work: Mapped[bytes] = mapped_column(Hash32)
    direction: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Uint256)
    nonce: Mapped[int] = mapped_column(Uint256)
    signature: Mapped[str] = mapped_column(String(132))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AllowanceRecord(Base):
    """A voter's VP for a round, fixed at close from the minimum stake over its blocks."""

    __tablename__ = "allowances"

    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    member: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    min_stake: Mapped[int] = mapped_column(Uint256)
    vp: Mapped[int] = mapped_column(Uint256)
    earns_rewards: Mapped[bool] = mapped_column(Boolean)


class TallyRowRecord(Base):
    __tablename__ = "tallies"

    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    work: Mapped[bytes] = mapped_column(Hash32)
    score_num: Mapped[str] = mapped_column(String(100))  # exact fraction, signed
    score_den: Mapped[str] = mapped_column(String(100))
    net_vp: Mapped[str] = mapped_column(String(100))  # signed, so not Uint256
    up_vp: Mapped[int] = mapped_column(Uint256)
    down_vp: Mapped[int] = mapped_column(Uint256)
    voters: Mapped[int] = mapped_column(Integer)
    impressions: Mapped[int] = mapped_column(Integer)
    raw_rank: Mapped[int] = mapped_column(Integer)


class Auction(Base):
    __tablename__ = "auctions"

    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    token_id: Mapped[int] = mapped_column(Integer, unique=True)
    work: Mapped[bytes] = mapped_column(Hash32)
    state: Mapped[str] = mapped_column(String(20))  # "running", "settled"
    end_time: Mapped[int | None] = mapped_column(Integer)
    winner: Mapped[str | None] = mapped_column(ADDRESS)
    amount: Mapped[int | None] = mapped_column(Uint256)
    voter_pool: Mapped[int | None] = mapped_column(Uint256)


class RewardEpoch(Base):
    __tablename__ = "reward_epochs"

    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    round: Mapped[int] = mapped_column(ForeignKey("rounds.number"), unique=True)
    pool: Mapped[int] = mapped_column(Uint256)  # wei for voters this epoch, carry-over included
    distributed: Mapped[int] = mapped_column(Uint256)
    root: Mapped[bytes] = mapped_column(Hash32)
    total_cumulative: Mapped[int] = mapped_column(Uint256)
    posted: Mapped[bool] = mapped_column(Boolean, default=False)
    tx_hash: Mapped[str | None] = mapped_column(String(66))


class Reward(Base):
    __tablename__ = "rewards"

    epoch: Mapped[int] = mapped_column(ForeignKey("reward_epochs.epoch"), primary_key=True)
    account: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    vp_spent: Mapped[int] = mapped_column(Uint256)
    amount: Mapped[int] = mapped_column(Uint256)
    cumulative: Mapped[int] = mapped_column(Uint256)


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round: Mapped[int] = mapped_column(Integer, index=True)
    path: Mapped[str] = mapped_column(String(400))
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StepLog(Base):
    """What each state transition did: makes a re-run after a crash skip finished
    side effects (a sent mint, a posted root) instead of doing them twice."""

    __tablename__ = "step_log"

    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[str] = mapped_column(String(40), primary_key=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SiweNonce(Base):
    """A Sign-In with Ethereum nonce: issued by the server, good once, until it expires."""

    __tablename__ = "web_siwe_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
