"""Round settings, read from the environment (prefix ``TASTEMAKER_ROUND_``)."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tastemaker.core.estimate import BiasModel
from tastemaker.core.voting_power import TOKEN_UNIT, Curve, VotingRules


class RoundSettings(BaseSettings):
    """How big a round is, how long it runs, and the rules it counts votes by.

    Defaults follow Botto: 350 new works a week into a rolling pool of 1,050.
    """

    model_config = SettingsConfigDict(env_prefix="TASTEMAKER_ROUND_", extra="ignore")

    seed: int = Field(default=0, description="Seed of the deployment's generation stream.")
    candidates: int = Field(default=2000, ge=1, description="Candidates generated per round.")
    new_works: int = Field(default=350, ge=1, description="New works curated into the pool.")
    pool_size: int = Field(default=1050, ge=1, description="Rolling pool size after culling.")
    image_size: int = Field(default=256, ge=16, le=8192, description="Render size, pixels.")
    voting_seconds: int = Field(default=7 * 24 * 3600, ge=1, description="Voting window.")
    vp_curve: Curve = Field(default="linear", description="linear, sqrt or log.")
    baseline_vp: int = Field(default=0, ge=0, description="VP of any signed-in wallet.")
    min_stake_to_earn: int = Field(default=TOKEN_UNIT, ge=0, description="Stake to earn.")
    prior_exposure: int = Field(
        default=5, ge=1, description="Shrinkage of the 'exposure' tally rule, in views."
    )
    tally: Literal["member-bias", "exposure"] = Field(
        default="member-bias", description="Tally rule (docs/tally.md, decision 0030)."
    )
    tally_member_prior: str = Field(
        default="2", description="member-bias: leniency shrinkage, in the member's own votes."
    )
    tally_work_prior: str = Field(
        default="1/4", description="member-bias: work shrinkage, in average VP per pool work."
    )
    tally_iterations: int = Field(default=20, ge=1, le=1000, description="member-bias fit.")

    def voting_rules(self) -> VotingRules:
        return VotingRules(self.vp_curve, self.baseline_vp, self.min_stake_to_earn)

    def rules_json(self) -> dict:
        """The rules frozen into each round row (and its public record)."""
        return {
            "vp_curve": self.vp_curve,
            "baseline_vp": str(self.baseline_vp),
            "min_stake_to_earn": str(self.min_stake_to_earn),
            "prior_exposure": self.prior_exposure,
            "tally": self.tally,
        } | (
            BiasModel(
                Fraction(self.tally_member_prior),
                Fraction(self.tally_work_prior),
                self.tally_iterations,
            ).to_json()
            | {"mint_if": "up-vp"}  # decision 0032
            if self.tally == "member-bias"
            else {}
        )
