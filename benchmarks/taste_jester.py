"""Held-out evaluation of the TasteModel on Jester (real ratings of 24,983 people, 70 jokes).

Vote = up when rating > 0. Jokes are split into K folds; in each fold one fold of jokes
is hidden entirely (their votes never reach any model, including the content models)
and 20% of members are "new". The training votes are the other members' votes on the
other jokes, minus a random 20% kept as test votes. Scenarios:

  a_known_members   known members on (known) jokes they rated but whose votes were hidden
  b_new_members     new members after 10 revealed votes, on their other known jokes
  c_cold_jokes      known members on the hidden jokes (content only)

Baselines (each tuned on validation data carved from the training votes):
  popularity        the joke's smoothed up-rate in training
  member_item_bias  logistic b + b_member + b_item (new members folded in from 10 votes)
  content_lr        logistic regression on the MiniLM text embedding of the joke
  hybrid            member and item bias + ridge content maps on MiniLM + 8 latent
                    factors (the factor model alone), its penalties tuned on validation
The taste model (VALIDATED_SETTINGS) reads each joke as the CLI does: MiniLM plus the
text's log length (decision 0016); the baselines get MiniLM only, as issue 10 defines them.

Prints JSON: pooled ROC-AUC, mean per-member ROC-AUC and pairwise accuracy (over all
(up, down) pairs of the same member) per scenario and method, each as mean, std, min
and max over folds. The verdict per scenario: the best baseline by mean; the taste
model's gap to it on each fold; and whether it wins every fold with a mean gap larger
than the fold-to-fold std of either method's figure.
Usage: python benchmarks/taste_jester.py [--data ../shared/data/jester] [--folds 5]
       [--members N]  (a random subsample of members, for quick iterations)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from tastemaker.taste.cache import FeatureCache
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.embed_text import TextEmbedder, text_statistics
from tastemaker.taste.metrics import pairwise_accuracy, per_member_auc, pooled_auc
from tastemaker.taste.model import VALIDATED_SETTINGS, TasteModel

REVEALED = 10
MODEL_SETTINGS = dict(VALIDATED_SETTINGS)
METRICS = ("pooled_auc", "member_auc", "pairwise_acc")
HYBRID_FACTORS = 8
# Penalties of the hybrid's member and item factors tried on the validation split.
HYBRID_REGS = (5.0, 30.0, 100.0)
# The hybrid is tuned on at most this many training members (the figures hardly move).
TUNE_MEMBERS = 5000


def votes_of(frame: pd.DataFrame) -> Votes:
    return Votes.from_arrays(
        frame.member_id.to_numpy(), frame.item_id.to_numpy(), np.where(frame.rating > 0, 1, -1)
    )


def score(frame: pd.DataFrame, p: np.ndarray) -> dict[str, float]:
    y = (frame.rating > 0).to_numpy()
    m = frame.member_id.to_numpy()
    return {
        "pooled_auc": round(pooled_auc(y, p), 4),
        "member_auc": round(per_member_auc(m, y, p), 4),
        "pairwise_acc": round(pairwise_accuracy(m, y, p), 4),
    }


class Popularity:
    """Each joke's up-rate in training, smoothed toward the global rate by ``alpha`` votes."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def fit(self, train: pd.DataFrame) -> Popularity:
        up = train.rating > 0
        self.global_ = float(up.mean())
        g = up.groupby(train.item_id)
        self.rate_ = (g.sum() + self.alpha * self.global_) / (g.size() + self.alpha)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame.item_id.map(self.rate_).fillna(self.global_).to_numpy()


class ContentLR:
    """Logistic regression from the joke's text embedding to P(up), fitted on item counts."""

    def __init__(self, c: float, features: pd.DataFrame) -> None:
        self.c = c
        self.features = features

    def fit(self, train: pd.DataFrame) -> ContentLR:
        up = (train.rating > 0).groupby(train.item_id).agg(["sum", "size"])
        x = self.features.loc[up.index].to_numpy()
        xx = np.vstack([x, x])
        yy = np.r_[np.ones(len(x)), np.zeros(len(x))]
        ww = np.r_[up["sum"], up["size"] - up["sum"]].astype(float)
        # Weights normalised to mean 1 per item so C means the same for any vote count.
        ww = ww / up["size"].mean()
        self.lr_ = LogisticRegression(C=self.c, max_iter=2000).fit(xx, yy, sample_weight=ww)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        x = self.features.loc[frame.item_id.to_numpy()].to_numpy()
        return self.lr_.predict_proba(x)[:, 1]


def tune_content_lr(train: pd.DataFrame, features: pd.DataFrame, rng: np.random.Generator) -> float:
    """C by leave-jokes-out cross-validation on training votes (log-likelihood)."""
    jokes = np.array(sorted(train.item_id.unique()))
    folds = np.array_split(rng.permutation(jokes), 5)
    best, best_ll = 1.0, -np.inf
    for c in (0.001, 0.01, 0.1, 1.0, 10.0):
        ll = 0.0
        for hold in folds:
            inner = train[~train.item_id.isin(hold)]
            held = train[train.item_id.isin(hold)]
            p = np.clip(ContentLR(c, features).fit(inner).predict(held), 1e-6, 1 - 1e-6)
            y = (held.rating > 0).to_numpy()
            ll += float(np.sum(np.where(y, np.log(p), np.log(1 - p))))
        if ll > best_ll:
            best, best_ll = c, ll
    return best


def tune_bias(train: pd.DataFrame, items: Items, rng: np.random.Generator) -> dict[str, float]:
    """Member/item bias penalties by log-likelihood on 10% of the training votes."""
    val_mask = rng.random(len(train)) < 0.1
    fit_part, val = train[~val_mask], train[val_mask]
    y = (val.rating > 0).to_numpy()
    best, best_ll = {}, -np.inf
    for reg in (0.5, 2.0, 8.0):
        settings = {"reg_member_bias": reg, "reg_item_bias": reg}
        model = TasteModel(n_factors=0, use_content=False, **settings).fit(
            votes_of(fit_part), items
        )
        p = np.clip(model.predict_proba(val.member_id, val.item_id), 1e-6, 1 - 1e-6)
        ll = float(np.sum(np.where(y, np.log(p), np.log(1 - p))))
        if ll > best_ll:
            best, best_ll = settings, ll
    return best


def hybrid(reg: float, seed: int) -> TasteModel:
    return TasteModel(
        n_factors=HYBRID_FACTORS, reg_member=reg, reg_item=reg, max_iter=200, random_state=seed
    )


def tune_hybrid(train: pd.DataFrame, items: Items, rng: np.random.Generator, seed: int) -> float:
    """Factor penalty by validation log-likelihood: 10% of the votes of a member subsample."""
    members = train.member_id.unique()
    if len(members) > TUNE_MEMBERS:
        train = train[train.member_id.isin(rng.choice(members, TUNE_MEMBERS, replace=False))]
    val_mask = rng.random(len(train)) < 0.1
    fit_part, val = train[~val_mask], train[val_mask]
    y = (val.rating > 0).to_numpy()
    lls = {}
    for reg in HYBRID_REGS:
        model = hybrid(reg, seed).fit(votes_of(fit_part), items)
        p = np.clip(model.predict_proba(val.member_id, val.item_id), 1e-6, 1 - 1e-6)
        lls[reg] = float(np.sum(np.where(y, np.log(p), np.log(1 - p))))
    return max(lls, key=lls.get)


def tune_popularity(train: pd.DataFrame, rng: np.random.Generator) -> float:
    val_mask = rng.random(len(train)) < 0.1
    fit_part, val = train[~val_mask], train[val_mask]
    y = (val.rating > 0).to_numpy()
    lls = {}
    for alpha in (0.0, 10.0, 100.0, 1000.0):
        p = np.clip(Popularity(alpha).fit(fit_part).predict(val), 1e-6, 1 - 1e-6)
        lls[alpha] = float(np.sum(np.where(y, np.log(p), np.log(1 - p))))
    return max(lls, key=lls.get)


class Variant:
    """An ablation of the taste model: a recombination of its parts' logits, or a refit.

    Reported with an ``x_`` prefix; never counted as a baseline in the verdict.
    """

    def __init__(self, predict) -> None:  # predict(member_ids, item_ids) -> logit or score
        self.predict_fn = predict

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_fn(frame.member_id.to_numpy(), frame.item_id.to_numpy())


def part_blend(model: TasteModel, keys: tuple[str, ...]):
    """Mean of the named parts' logits where the item has them all, factors elsewhere."""

    def predict(m: np.ndarray, i: np.ndarray) -> np.ndarray:
        parts = model.component_logits(m, i)
        z = np.mean([parts[k] for k in keys], axis=0)
        return np.where(np.isfinite(z), z, parts["factors"])

    return predict


def fixed_blend(model: TasteModel):
    """The decision-0016 blend (1/4 factors, 1/4 neighbours, 1/2 autoencoder)."""

    def predict(m: np.ndarray, i: np.ndarray) -> np.ndarray:
        parts = model.component_logits(m, i)
        return model._combine(parts["factors"], parts["neighbours"], parts["autoencoder"])

    return predict


def ablations(
    ours: TasteModel,
    train: pd.DataFrame,
    items: Items,
    text_items: Items,
    reg: float,
    seed: int,
    refits: bool,
) -> dict[str, Variant]:
    """What each part adds: parts alone and in pairs (no refit); with ``refits`` also the
    model without the text statistic and the hybrid given the statistic."""
    out = {
        "x_factors_only": Variant(part_blend(ours, ("factors",))),
        "x_neighbours_only": Variant(part_blend(ours, ("neighbours",))),
        "x_autoencoder_only": Variant(part_blend(ours, ("autoencoder",))),
        "x_factors_neighbours": Variant(part_blend(ours, ("factors", "neighbours"))),
        "x_fixed_blend_0016": Variant(fixed_blend(ours)),
    }
    if not refits:
        return out
    no_stats = TasteModel(random_state=seed, **MODEL_SETTINGS).fit(votes_of(train), items)
    hyb_stats = hybrid(reg, seed).fit(votes_of(train), text_items)
    out["x_no_text_statistic"] = Variant(no_stats.predict_logit)
    out["x_hybrid_with_statistic"] = Variant(hyb_stats.predict_logit)
    out["x_no_text_statistic"].model = no_stats
    out["x_hybrid_with_statistic"].model = hyb_stats
    return out


def run_fold(
    ratings: pd.DataFrame,
    items: Items,
    text_items: Items,
    features: pd.DataFrame,
    cold: np.ndarray,
    seed: int,
    with_ablations: bool = False,
    ablation_refits: bool = False,
) -> dict[str, dict[str, dict[str, float]]]:
    rng = np.random.default_rng(seed)
    members = ratings.member_id.unique()
    new = set(rng.choice(members, len(members) // 5, replace=False))
    is_new = ratings.member_id.isin(new).to_numpy()
    is_cold = ratings.item_id.isin(cold).to_numpy()
    held = rng.random(len(ratings)) < 0.2
    train = ratings[~is_new & ~is_cold & ~held]
    test = {
        "a_known_members": ratings[~is_new & ~is_cold & held],
        "c_cold_jokes": ratings[~is_new & is_cold],
    }
    newcomers = ratings[is_new & ~is_cold].sample(frac=1.0, random_state=seed)
    rank = newcomers.groupby("member_id").cumcount()
    revealed, test["b_new_members"] = newcomers[rank < REVEALED], newcomers[rank >= REVEALED]

    # Content models only ever see the features of all jokes, never a test joke's votes.
    models: dict[str, object] = {}
    pop = Popularity(tune_popularity(train, rng)).fit(train)
    lr = ContentLR(tune_content_lr(train, features, rng), features).fit(train)
    bias_settings = tune_bias(train, items, rng)
    bias = TasteModel(n_factors=0, use_content=False, **bias_settings).fit(votes_of(train), items)
    hyb = hybrid(tune_hybrid(train, items, rng, seed), seed).fit(votes_of(train), items)
    # The taste model reads jokes as the CLI does: MiniLM plus the text statistics.
    ours = TasteModel(random_state=seed, **MODEL_SETTINGS).fit(votes_of(train), text_items)
    models = {
        "popularity": pop,
        "member_item_bias": bias,
        "content_lr": lr,
        "hybrid": hyb,
        "taste_model": ours,
    }
    if with_ablations:
        models.update(
            ablations(ours, train, items, text_items, hyb.reg_member, seed, ablation_refits)
        )

    out: dict[str, dict[str, dict[str, float]]] = {}
    for scenario in ("a_known_members", "c_cold_jokes", "b_new_members"):
        if scenario == "b_new_members":
            # Fold in the newcomers' 10 revealed votes; baselines without member terms
            # gain nothing from them (popularity and content are member-independent).
            bias.partial_fit(votes_of(revealed))
            hyb.partial_fit(votes_of(revealed))
            ours.partial_fit(votes_of(revealed))
            for model in models.values():
                if hasattr(model, "model"):  # refitted ablations fold newcomers in too
                    model.model.partial_fit(votes_of(revealed))
        frame = test[scenario]
        out[scenario] = {}
        for name, model in models.items():
            if isinstance(model, TasteModel):
                p = model.predict_proba(frame.member_id.to_numpy(), frame.item_id.to_numpy())
            else:
                p = model.predict(frame)
            out[scenario][name] = score(frame, p)
        out[scenario]["n_test_votes"] = len(frame)
    out["hybrid_reg"] = hyb.reg_member
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/jester"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--run-folds", type=int, default=None, help="evaluate only the first N")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cache", type=Path, default=Path(".tastemaker/features"))
    parser.add_argument("--members", type=int, default=None, help="subsample N members")
    parser.add_argument(
        "--only-folds", default=None, help="comma-separated fold numbers to evaluate (e.g. 0,1)"
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=JSON",
        help="development only: override a taste-model setting, e.g. stack_blend=true",
    )
    parser.add_argument(
        "--ablations", action="store_true", help="also score the taste model's ablations (x_*)"
    )
    parser.add_argument(
        "--ablation-refits",
        action="store_true",
        help="with --ablations: also refit without the text statistic and the hybrid with it",
    )
    parser.add_argument(
        "--merge", type=Path, nargs="+", default=None, help="combine the JSON of earlier runs"
    )
    args = parser.parse_args()
    for item in args.set:
        key, _, value = item.partition("=")
        MODEL_SETTINGS[key] = json.loads(value)
    started = time.perf_counter()
    if args.merge:
        runs = [json.loads(path.read_text()) for path in args.merge]
        results = [fold for run in runs for fold in run["per_fold"]]
        seconds = sum(run["seconds"] for run in runs)
        report(args, results, runs[0]["members"], seconds)
        return

    jokes = pd.read_csv(args.data / "jokes.csv")
    ratings = pd.read_csv(args.data / "ratings.csv.gz")
    if args.members:
        members = ratings.member_id.unique()
        pick = np.random.default_rng(args.seed - 1).choice(members, args.members, replace=False)
        ratings = ratings[ratings.member_id.isin(pick)]
    x = TextEmbedder(FeatureCache(args.cache)).embed(list(jokes.text))
    features = pd.DataFrame(x, index=jokes.item_id)
    items = Items.from_arrays(jokes.item_id.to_numpy(), x)
    stats = text_statistics(list(jokes.text))
    text_items = Items.from_arrays(jokes.item_id.to_numpy(), np.hstack([x, stats]), stats.shape[1])

    rng = np.random.default_rng(args.seed)
    folds = np.array_split(rng.permutation(jokes.item_id.to_numpy()), args.folds)
    chosen = range(len(folds[: args.run_folds]))
    if args.only_folds:
        chosen = [int(k) for k in args.only_folds.split(",")]
    results = []
    for k in chosen:
        results.append(
            run_fold(
                ratings,
                items,
                text_items,
                features,
                folds[k],
                args.seed + k,
                args.ablations,
                args.ablation_refits,
            )
        )
        results[-1]["fold"] = k
    report(args, results, args.members, time.perf_counter() - started)


def report(args: argparse.Namespace, results: list[dict], members: int | None, seconds: float):
    summary: dict[str, dict] = {}
    scenarios = [k for k in results[0] if k not in ("hybrid_reg", "fold")]
    beats_all = True
    for scenario in scenarios:
        rows = [r[scenario] for r in results]
        names = [n for n in rows[0] if n != "n_test_votes"]
        block: dict[str, object] = {"n_test_votes": int(sum(r["n_test_votes"] for r in rows))}
        for name in names:
            block[name] = {
                metric: {
                    "mean": round(float(np.mean([r[name][metric] for r in rows])), 4),
                    "fold_std": round(float(np.std([r[name][metric] for r in rows])), 4),
                    "min": round(float(np.min([r[name][metric] for r in rows])), 4),
                    "max": round(float(np.max([r[name][metric] for r in rows])), 4),
                }
                for metric in METRICS
            }
        verdict = {}
        for metric in ("member_auc", "pairwise_acc"):
            rivals = [n for n in names if n != "taste_model" and not n.startswith("x_")]
            best = max(rivals, key=lambda n: block[n][metric]["mean"])
            gaps = [r["taste_model"][metric] - r[best][metric] for r in rows]
            spread = max(block[n][metric]["fold_std"] for n in ("taste_model", best))
            ok = min(gaps) > 0 and float(np.mean(gaps)) > spread
            verdict[metric] = {
                "best_baseline": best,
                "gap_mean": round(float(np.mean(gaps)), 4),
                "gap_per_fold": [round(g, 4) for g in gaps],
                "gap_fold_std": round(float(np.std(gaps)), 4),
                "fold_spread": spread,
                "wins_every_fold_by_more_than_spread": bool(ok),
            }
            beats_all &= ok
        block["verdict"] = verdict
        summary[scenario] = block
    print(
        json.dumps(
            {
                "benchmark": "taste_jester",
                "folds": args.folds,
                "folds_evaluated": len(results),
                "revealed_votes_for_new_members": REVEALED,
                "taste_model_settings": MODEL_SETTINGS,
                "members": members,
                "scenarios": summary,
                "per_fold": results,
                "taste_model_beats_best_baseline_everywhere": bool(beats_all),
                "seconds": round(seconds, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
