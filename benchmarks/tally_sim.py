"""Does the tally pick what the community likes? Tally rules on a simulated community.

For each seed: a community of ``--members`` members with hidden tastes and log-normal
stakes (``sim.community``), a pool of ``--pool`` random CPPN works, one round of votes
with sparse exposure (a member sees about 24 of the 150 works and votes on ~60% of
them, so a work gets ~8 views and ~5 votes). Each rule's winner is judged against the
best work of the pool by hidden approval (the oracle):

    ratio = approval(winner) / max(approval over the pool)

member-weighted (the mean member's P(up)) and stake-weighted (members weighted by VP).

Sybil gain: an outside member with the community's median stake backs a random pool
work with all of it, once from one wallet and once split over 10 wallets
(each shown the work and voting on it). Sway is how far the attacker lifts the work's
rank over the round without them; the gain is sway(10 wallets) / sway(1 wallet), and
the share of seeds where the attacker makes the work win is reported beside it.

Rules: ``raw`` (Botto's net VP), ``exposure`` (net VP per view, prior 5 views; the rule
before decision 0030), ``member-bias`` (decision 0030's default, ``core.estimate``) and
variants of it. Exposure policies: ``adaptive`` (the vote page's, ``rounds.exposure``,
decision 0031), ``least_shown`` (the vote page before it, decision 0022) and ``uneven``
(a Zipf-like feed).

    python benchmarks/tally_sim.py --seeds 40      # prints JSON
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from tastemaker.core.estimate import BiasModel
from tastemaker.core.tally import CountedVote, TallyRow, bias_tally, tally
from tastemaker.generate.registry import get_engine
from tastemaker.rounds.exposure import VOTE_PAGE, ExposurePolicy
from tastemaker.sim.community import Community

UNIT = 10**15  # sim VP -> integer amounts


def bank(n: int, size: int, seed: int) -> list[np.ndarray]:
    engine = get_engine("cppn")
    rng = np.random.default_rng(seed)
    images: list[np.ndarray] = []
    while len(images) < n:
        image = engine.render(engine.random(rng), size)
        if engine.screen(image):
            images.append(image)
    return images


def rules() -> dict:
    def raw(pool, votes, impressions) -> list[bytes]:
        net: dict[bytes, int] = dict.fromkeys(pool, 0)
        for v in votes:
            net[v.work] += v.direction * v.amount
        return sorted(pool, key=lambda w: (-net[w], w))

    def ranked(rows: list[TallyRow]) -> list[bytes]:
        return [r.work for r in rows]

    def unit(pool, votes, impressions) -> list[bytes]:
        # One vote, one weight: a reference for what VP weighting costs (not Sybil-safe).
        ones = [CountedVote(v.voter, v.work, v.direction, 1) for v in votes]
        return ranked(bias_tally(pool, ones, impressions, BiasModel()))

    def capped(pool, votes, impressions, times: int = 3) -> list[bytes]:
        # A per-vote influence cap: no vote weighs more than `times` the round's mean vote.
        cap = times * sum(v.amount for v in votes) // max(len(votes), 1)
        kept = [CountedVote(v.voter, v.work, v.direction, min(v.amount, cap)) for v in votes]
        return ranked(bias_tally(pool, kept, impressions, BiasModel()))

    out = {
        "raw": raw,
        "exposure": lambda p, v, i: ranked(tally(p, v, i, 5)),
        "member-bias": lambda p, v, i: ranked(bias_tally(p, v, i, BiasModel())),
        "member-bias one weight per vote": unit,
        "member-bias vote cap 3x mean": capped,
    }
    for mp, wp in (
        (0, Fraction(1, 4)),
        (2, Fraction(1, 8)),
        (2, Fraction(1, 2)),
        (4, Fraction(1, 4)),
    ):
        model = BiasModel(Fraction(mp), wp)
        out[f"member-bias mp={mp} wp={wp}"] = lambda p, v, i, m=model: ranked(
            bias_tally(p, v, i, m)
        )
    return out


@dataclass(frozen=True)
class FixedFocus(ExposurePolicy):
    """Variant: a focus of ``size`` works all round long (a member's views, 24)."""

    size: int = 24

    def focus_size(self, n_works: int, progress: float) -> int:
        return min(n_works, self.size)


@dataclass(frozen=True)
class RunOff(ExposurePolicy):
    """Variant: the vote page's focus, then a run-off: in the last ``share`` of the
    round only the ``size`` most promising works are in focus (Botto-like)."""

    share: float = 0.3
    size: int = 5

    def focus_size(self, n_works: int, progress: float) -> int:
        if progress >= 1.0 - self.share:
            return min(n_works, self.size)
        return super().focus_size(n_works, progress)


POLICIES: dict[str, ExposurePolicy] = {
    # exposure name -> the policy the simulated vote page runs (rounds.exposure)
    "adaptive": VOTE_PAGE,
    "adaptive fixed focus 24": FixedFocus(),
    "adaptive run-off 5 for the last 30%": RunOff(),
}


def winner(order: list[bytes], votes: list[CountedVote]) -> bytes | None:
    """The top work if anyone voted it up (the mint rule of decision 0032), else none."""
    return order[0] if any(v.direction > 0 and v.work == order[0] for v in votes) else None


def run_seed(seed: int, images: list[np.ndarray], n_pool: int, args, rule_fns: dict) -> dict:
    rng = np.random.default_rng(seed)
    community = Community(n_members=args.members, seed=seed)
    pick = rng.permutation(len(images))
    community.calibrate([images[k] for k in pick[:60]])
    pool_images = [images[k] for k in pick[60 : 60 + n_pool]]
    pool = [k.to_bytes(32, "big") for k in range(1, len(pool_images) + 1)]
    ids = ["0x" + w.hex() for w in pool]
    prob = community.up_probability(pool_images)
    stake = np.array([m.voting_power for m in community.members])
    truth = {"member": prob.mean(axis=0), "stake": stake @ prob / stake.sum()}
    attackers = {"median": np.median(stake), "p90": np.quantile(stake, 0.9)}
    out: dict = {}
    for exposure in args.exposure:
        policy = POLICIES.get(exposure)
        community.policy = policy if policy is not None else VOTE_PAGE
        sim_votes, shown = community.vote_round(
            ids, pool_images, rng, exposure="adaptive" if policy is not None else exposure
        )
        votes = [
            CountedVote(
                v.member_id, bytes.fromhex(v.work_id[2:]), v.direction, int(v.amount * UNIT)
            )
            for v in sim_votes
        ]
        impressions: dict[bytes, int] = {}
        for s in shown:
            work = bytes.fromhex(s.work_id[2:])
            impressions[work] = impressions.get(work, 0) + 1
        target = pool[int(rng.integers(len(pool)))]
        for name, fn in rule_fns.items():
            order = fn(pool, votes, impressions)
            won = winner(order, votes)
            row = {}
            for weight, approval in truth.items():
                best = approval.max()
                row[weight] = 0.0 if won is None else float(approval[pool.index(won)] / best)
            base_rank = order.index(target)
            for who, held in attackers.items():
                for wallets in (1, 10):
                    extra = [
                        CountedVote(f"attacker{k:02d}", target, 1, int(held * UNIT) // wallets)
                        for k in range(wallets)
                    ]
                    seen = dict(impressions)
                    seen[target] = seen.get(target, 0) + wallets
                    attacked = fn(pool, votes + extra, seen)
                    row[f"{who} sway{wallets}"] = base_rank - attacked.index(target)
                    row[f"{who} win{wallets}"] = winner(attacked, votes + extra) == target
            out[(exposure, name)] = row
    return out


def summary(runs: list[dict]) -> dict:
    member = np.array([r["member"] for r in runs])
    stake = np.array([r["stake"] for r in runs])
    row = {
        "winner_over_best": round(float(member.mean()), 3),
        "winner_over_best_se": round(float(member.std(ddof=1) / np.sqrt(len(member))), 3),
        "winner_over_best_p10": round(float(np.quantile(member, 0.1)), 3),
        "share_at_least_0.9": round(float((member >= 0.9).mean()), 3),
        "stake_winner_over_best": round(float(stake.mean()), 3),
    }
    for who, label in (("median", ""), ("p90", "_p90_stake")):
        sway1 = float(np.mean([r[f"{who} sway1"] for r in runs]))
        sway10 = float(np.mean([r[f"{who} sway10"] for r in runs]))
        row |= {
            f"sybil_gain{label}": round(sway10 / sway1, 3) if sway1 > 0 else None,
            f"attacker{label}_rank_lift_1_wallet": round(sway1, 1),
            f"attacker{label}_rank_lift_10_wallets": round(sway10, 1),
            f"attacker{label}_wins_1_wallet": round(
                float(np.mean([r[f"{who} win1"] for r in runs])), 3
            ),
            f"attacker{label}_wins_10_wallets": round(
                float(np.mean([r[f"{who} win10"] for r in runs])), 3
            ),
        }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument(
        "--pool", type=int, nargs="+", default=[150, 75], help="pool sizes to measure"
    )
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rules", nargs="+", default=None, help="only these rules")
    parser.add_argument(
        "--exposure",
        nargs="+",
        default=["least_shown", "adaptive"],
        help=f"least_shown, uneven, or a vote-page policy: {', '.join(POLICIES)}",
    )
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    images = bank(max(args.pool) + 60 + 140, args.size, seed=12345)
    rule_fns = {k: f for k, f in rules().items() if args.rules is None or k in args.rules}
    results: dict = {}
    for n_pool in args.pool:
        rows: dict = {}
        for seed in range(args.seeds):
            for key, row in run_seed(seed, images, n_pool, args, rule_fns).items():
                rows.setdefault(key, []).append(row)
        for (exposure, name), runs in rows.items():
            results.setdefault(f"pool {n_pool}", {}).setdefault(exposure, {})[name] = summary(runs)
    print(
        json.dumps(
            {
                "benchmark": "tally_sim",
                "seeds": args.seeds,
                "members": args.members,
                "pools": args.pool,
                "views_per_member": 24,
                "policies": {k: asdict(v) for k, v in POLICIES.items()},
                "results": results,
                "seconds": round(time.perf_counter() - started, 1),
                "cpu_seconds": round(time.process_time() - cpu, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
