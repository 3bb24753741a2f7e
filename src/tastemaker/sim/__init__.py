"""A simulated community with hidden tastes, for benchmarks and the demo."""

from tastemaker.sim.community import Community, Impression, SimMember, SimVote
from tastemaker.sim.perception import RandomConvPerception

__all__ = ["Community", "Impression", "RandomConvPerception", "SimMember", "SimVote"]
