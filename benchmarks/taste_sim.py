"""Does the full loop (taste model + curation + evolution) find what a community likes?

A simulated community (hidden tastes over random-conv perceptual features the taste model
never sees) votes for 10 rounds. Arms, on the same community and the same engine:

  full     taste model learns from the votes, curates the pool, steers evolution
  random   fresh random works, random curation, no model, no evolution

For each round: the hidden-taste approval (mean member's P(up)) of the round's winner and
of the pool it was chosen from. Prints JSON and writes a PNG plot.
Usage: python benchmarks/taste_sim.py [--rounds 10] [--seeds 2] [--plot docs/images/taste_sim.png]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from tastemaker.generate import get_engine
from tastemaker.sim.community import Community
from tastemaker.sim.loop import LoopSettings, SimulatedLoop

MEMBERS = 150
VIEWS = 40  # works each member is shown per round (of a 48-work pool)


def run_arm(mode: str, seed: int, rounds: int, engine_name: str) -> dict[str, list[float]]:
    engine = get_engine(engine_name)
    community = Community(n_members=MEMBERS, views_per_member=VIEWS, seed=seed)
    ref_rng = np.random.default_rng(10_000 + seed)
    community.calibrate([engine.render(engine.random(ref_rng), 64) for _ in range(200)])
    loop = SimulatedLoop(engine, community, LoopSettings(rounds=rounds, seed=seed), mode=mode)
    results = loop.run()
    return {
        "winner": [r.winner_approval for r in results],
        "pool": [r.pool_approval for r in results],
        "new": [r.new_approval for r in results],
        "votes": [r.votes for r in results],
    }


def plot(summary: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    colours = {"full": "tab:blue", "random": "tab:gray"}
    for ax, key, title in ((axes[0], "winner", "round winner"), (axes[1], "pool", "pool (mean)")):
        for mode, arm in summary.items():
            mean = np.array(arm[f"{key}_mean"])
            runs = np.array(arm[key])
            x = np.arange(1, len(mean) + 1)
            for run in runs:
                ax.plot(x, run, color=colours[mode], alpha=0.25, lw=1)
            label = "full loop" if mode == "full" else "random, no evolution"
            ax.plot(x, mean, color=colours[mode], lw=2.5, marker="o", label=label)
        ax.set_title(f"Hidden-taste approval of the {title}")
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean member P(up)")
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=2, help="independent communities")
    parser.add_argument("--engine", default="cppn")
    parser.add_argument("--plot", type=Path, default=Path("docs/images/taste_sim.png"))
    args = parser.parse_args()
    started = time.perf_counter()

    summary: dict[str, dict] = {}
    for mode in ("full", "random"):
        runs = [run_arm(mode, seed, args.rounds, args.engine) for seed in range(args.seeds)]
        arm: dict[str, list] = {k: [r[k] for r in runs] for k in ("winner", "pool", "new")}
        for k in ("winner", "pool", "new"):
            arm[f"{k}_mean"] = [round(float(v), 4) for v in np.mean(arm[k], axis=0)]
            arm[k] = [[round(float(v), 4) for v in run] for run in arm[k]]
        arm["votes_per_round"] = round(float(np.mean([r["votes"] for r in runs])), 1)
        summary[mode] = arm

    def last3(mode: str, key: str) -> float:
        return float(np.mean(summary[mode][f"{key}_mean"][-3:]))

    plot(summary, args.plot)
    report = {
        "benchmark": "taste_sim",
        "rounds": args.rounds,
        "communities": args.seeds,
        "members": MEMBERS,
        "arms": summary,
        "last3_rounds": {
            f"{mode}_{key}": round(last3(mode, key), 4)
            for mode in ("full", "random")
            for key in ("winner", "pool")
        },
        "mean_rounds_2_to_end": {
            f"{mode}_{key}": round(float(np.mean(summary[mode][f"{key}_mean"][1:])), 4)
            for mode in ("full", "random")
            for key in ("winner", "pool")
        },
        "full_beats_random_last3": bool(
            last3("full", "winner") > last3("random", "winner")
            and last3("full", "pool") > last3("random", "pool")
        ),
        "plot": str(args.plot),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
