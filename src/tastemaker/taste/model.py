"""TasteModel: P(up | member, work) from collective taste, personal deviation and item terms.

    logit(m, i) = b + b_m + c_i + u_m . v_i
    c_i = x_i . w + d_i          (collective content taste + item residual)
    v_i = v0 + x_i W + e_i       (item factors: shared part + content part + item residual)

``x_i`` are the item's standardised content features. ``d_i`` and ``e_i`` only move away
from zero when item i has votes, so a new item is judged by its content alone; the
content maps ``w, W`` come from a cross-validated ridge (decision 0011). ``b_m`` and
``u_m`` are the member's bias and personal taste; their L2 prior shrinks them to zero,
so a member with few votes stays close to the collective, and ``partial_fit`` folds
members in under a population prior learned from the others (decision 0012). Penalties
are counted in votes (the loss is a VP-weighted sum with mean weight 1), so
``reg_member=5`` means a member's own terms carry about as much as five votes.
Optionally the logit is blended with per-item neighbour regressions (decision 0015) and
a vote autoencoder (decision 0016) on items with enough votes; text statistics
(``Items.n_stats``) enter the content maps before the embedding (decision 0016).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from scipy.special import expit
from sklearn.linear_model import RidgeCV
from threadpoolctl import ThreadpoolController

from tastemaker import __version__
from tastemaker.errors import UsageError
from tastemaker.taste.autoencoder import AUTOENCODER_KEYS, VoteAutoencoder
from tastemaker.taste.data import Items, Votes
from tastemaker.taste.newton import map_newton
from tastemaker.taste.stack import apply_stack, fit_stack, inner_split

# Settings validated on held-out Jester votes (benchmarks/taste_jester.py); the CLI uses them.
VALIDATED_SETTINGS: dict[str, float | int] = {
    "n_factors": 4,
    "reg_member": 30.0,
    "reg_item": 30.0,
    "max_iter": 200,
    "neighbour_inputs": 64,
    "reg_neighbour": 100.0,
    "autoencoder_hidden": 64,
    "autoencoder_weight": 0.5,
    "stack_blend": True,
}

_MODEL_FILE = "model.npz"
_CARD_FILE = "model.json"
_BLOCKS = ("b", "bm", "U", "d", "E", "w", "W", "v0")
# Use a dense member x item score table when it is at most this many times the vote count.
_DENSE_RATIO = 4
# Members with at least this many votes define the population prior used for fold-in.
_SOLID_MEMBER_VOTES = 20
# Ridge penalties tried (by leave-one-item-out CV) for the content maps.
_CONTENT_ALPHAS = np.logspace(-1, 5, 13)
# An item gets a neighbour regression once it has this many votes.
_NEIGHBOUR_MIN_VOTES = 30
# Copies of each training row with votes hidden at random, so the neighbour regressions
# also serve members who revealed only a few votes.
_NEIGHBOUR_COPIES = 1
_PREDICT_CHUNK = 100_000
_BLAS = ThreadpoolController()


def _one_blas_thread(method: Callable) -> Callable:
    """Run ``method`` with BLAS limited to one thread.

    The model's BLAS calls are small (L-BFGS's vector updates, members x 4 x items products):
    OpenBLAS threads spin-waiting between them cost far more than they save. Measured on
    the full Jester fit on a shared 2-core machine: 14x less CPU with one thread.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _BLAS.limit(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return wrapper


def content_ridge(
    x: np.ndarray, targets: np.ndarray, weight: np.ndarray, n_stats: int
) -> tuple[np.ndarray, np.ndarray, list[list[float]]]:
    """Multi-output ridge from item features to item terms, penalties by leave-one-out CV.

    Hand-made statistics (the last ``n_stats`` columns) are fitted first, each output with
    its own cross-validated penalty; then the embedding on what they leave. One isotropic
    ridge over both would drown a strong statistic among 384 embedding dimensions.
    Returns coefficients (outputs x features), intercepts and the chosen penalties.
    """
    groups = [slice(0, x.shape[1] - n_stats)] + ([slice(-n_stats, None)] if n_stats else [])
    coef = np.zeros((targets.shape[1], x.shape[1]))
    intercept = np.zeros(targets.shape[1])
    alphas = []
    for group in groups[::-1]:
        ridge = RidgeCV(alphas=_CONTENT_ALPHAS, alpha_per_target=True, fit_intercept=True)
        ridge.fit(x[:, group], targets, sample_weight=weight)
        coef[:, group] = np.atleast_2d(ridge.coef_)
        intercept += np.atleast_1d(ridge.intercept_)
        targets = targets - ridge.predict(x[:, group]).reshape(targets.shape)
        alphas.append(np.atleast_1d(ridge.alpha_).tolist())
    return coef, intercept, alphas


@dataclass
class _Index:
    """Integer codes of the votes the model has seen, in member/item index space."""

    m: np.ndarray
    i: np.ndarray
    y: np.ndarray  # 1 for up, 0 for down
    s: np.ndarray  # vote weight, mean 1 at fit time


class TasteModel:
    """A logistic taste model trained on VP-weighted up/down votes (sklearn-style).

    Settings live in ``__init__``; ``fit`` refits on all votes, ``partial_fit`` adds votes
    and re-optimises the members and items they touch, ``predict_proba`` scores pairs.
    """

    def __init__(
        self,
        n_factors: int = 8,
        reg_member_bias: float = 2.0,
        reg_member: float = 5.0,
        reg_item_bias: float = 2.0,
        reg_item: float = 5.0,
        use_content: bool = True,
        max_iter: int = 300,
        partial_max_iter: int = 8,  # Newton steps per fold-in (each step is exact, batched)
        tol: float = 1e-7,
        random_state: int = 0,
        neighbour_inputs: int = 0,
        reg_neighbour: float = 100.0,
        autoencoder_hidden: int = 0,
        autoencoder_weight: float = 0.5,
        stack_blend: bool = False,
    ) -> None:
        self.n_factors = n_factors
        self.reg_member_bias = reg_member_bias
        self.reg_member = reg_member
        self.reg_item_bias = reg_item_bias
        self.reg_item = reg_item
        self.use_content = use_content
        self.max_iter = max_iter
        self.partial_max_iter = partial_max_iter
        self.tol = tol
        self.random_state = random_state
        self.neighbour_inputs = neighbour_inputs
        self.reg_neighbour = reg_neighbour
        self.autoencoder_hidden = autoencoder_hidden
        self.autoencoder_weight = autoencoder_weight
        self.stack_blend = stack_blend

    # ------------------------------------------------------------------ public API

    def get_params(self) -> dict[str, Any]:
        return {
            "n_factors": self.n_factors,
            "reg_member_bias": self.reg_member_bias,
            "reg_member": self.reg_member,
            "reg_item_bias": self.reg_item_bias,
            "reg_item": self.reg_item,
            "use_content": self.use_content,
            "max_iter": self.max_iter,
            "partial_max_iter": self.partial_max_iter,
            "tol": self.tol,
            "random_state": self.random_state,
            "neighbour_inputs": self.neighbour_inputs,
            "reg_neighbour": self.reg_neighbour,
            "autoencoder_hidden": self.autoencoder_hidden,
            "autoencoder_weight": self.autoencoder_weight,
            "stack_blend": self.stack_blend,
        }

    @_one_blas_thread
    def fit(
        self, votes: Votes, items: Items, progress: Callable[[int, int], None] | None = None
    ) -> TasteModel:
        """Learn from scratch on ``votes``; ``items`` must describe every voted item.

        ``progress(iteration, max_iter)`` is called after each optimiser iteration.
        """
        if len(votes) == 0:
            raise UsageError("cannot fit a taste model on zero votes")
        started = time.perf_counter()
        self.feature_mean_ = items.features.mean(axis=0)
        std = items.features.std(axis=0)
        self.feature_scale_ = np.where(std > 1e-12, std, 1.0)
        self.item_ids_ = items.ids.copy()
        self.X_ = self._standardise(items.features)
        self.n_stats_ = int(items.n_stats)
        self._item_pos = pd.Index(self.item_ids_)
        self.member_ids_ = np.unique(votes.member_ids)
        self._member_pos = pd.Index(self.member_ids_)
        self.weight_scale_ = float(votes.weight.mean())
        self._votes = self._encode(votes)

        rng = np.random.default_rng(self.random_state)
        n_m, n_i, k, n_f = (
            len(self.member_ids_),
            len(self.item_ids_),
            self.n_factors,
            self.X_.shape[1],
        )
        p_up = np.average(self._votes.y, weights=self._votes.s)
        p_up = float(np.clip(p_up, 1e-3, 1 - 1e-3))
        self.params_: dict[str, np.ndarray] = {
            "b": np.array([np.log(p_up / (1 - p_up))]),
            "bm": np.zeros(n_m),
            "U": 0.05 * rng.standard_normal((n_m, k)),
            "d": np.zeros(n_i),
            "E": 0.05 * rng.standard_normal((n_i, k)),
            "w": np.zeros(n_f),
            "W": np.zeros((n_f, k)),
            "v0": np.zeros(k),
        }
        # Stage 1: collaborative terms only. Stage 2: content maps by cross-validated
        # ridge from item features to the learned item terms. Stage 3: refit the
        # collaborative terms, whose item residuals now shrink toward the content.
        blocks = tuple(b for b in _BLOCKS if b not in ("w", "W"))
        total = self.max_iter + (self.max_iter // 2 if self.use_content else 0)

        def stage_three(k: int, _: int) -> None:
            if progress is not None:
                progress(self.max_iter + k, total)

        self.n_iter_ = self._optimise(
            blocks, self.max_iter, None if progress is None else (lambda k, _: progress(k, total))
        )
        if self.use_content:
            self._fit_content_maps()
            self.n_iter_ += self._optimise(blocks, self.max_iter // 2, stage_three)
        self._set_member_prior()
        self._fit_neighbours(rng)
        self._fit_autoencoder()
        self._fit_stack(votes, items)
        self._finish(started)
        return self

    @_one_blas_thread
    def partial_fit(self, votes: Votes, items: Items | None = None) -> TasteModel:
        """Add ``votes`` and fold in the members and items they touch (online update).

        Each touched member's bias and factors are re-estimated from all their votes under
        the population prior learned at the last ``fit`` (so a member with a few votes
        stays near the collective); then each touched item's bias. Shared parameters
        (content weights, item factors) stay fixed until the next ``fit``.
        """
        if not hasattr(self, "params_"):
            if items is None:
                raise UsageError("the first fit needs item features")
            return self.fit(votes, items)
        started = time.perf_counter()
        if items is not None:
            self.add_items(items)
        new_members = np.setdiff1d(np.unique(votes.member_ids), self.member_ids_)
        if len(new_members):
            self.member_ids_ = np.concatenate([self.member_ids_, new_members])
            self._member_pos = pd.Index(self.member_ids_)
            start = np.tile(self.member_prior_mean_, (len(new_members), 1))
            self.params_["bm"] = np.concatenate([self.params_["bm"], start[:, 0]])
            self.params_["U"] = np.vstack([self.params_["U"], start[:, 1:]])
        new = self._encode(votes)
        old = self._votes
        self._votes = _Index(
            np.concatenate([old.m, new.m]),
            np.concatenate([old.i, new.i]),
            np.concatenate([old.y, new.y]),
            np.concatenate([old.s, new.s]),
        )
        self._fold_in_members(np.unique(new.m))
        self._fold_in_items(np.unique(new.i))
        self._member_votes = None  # members' latest votes changed
        self._finish(started)
        return self

    def _fold_in_members(self, members: np.ndarray) -> None:
        v, p = self._votes, self.params_
        mask = np.isin(v.m, members)
        local = np.searchsorted(members, v.m[mask])
        i = v.i[mask]
        c, vecs = self._item_terms()
        phi = np.column_stack([np.ones(len(i)), vecs[i]])
        theta0 = np.column_stack([p["bm"][members], p["U"][members]])
        theta = map_newton(
            local,
            phi,
            p["b"][0] + c[i],
            v.y[mask],
            v.s[mask],
            theta0,
            self.member_prior_mean_,
            self.member_prior_prec_,
            n_iter=self.partial_max_iter,
        )
        p["bm"][members] = theta[:, 0]
        p["U"][members] = theta[:, 1:]

    def _fold_in_items(self, items: np.ndarray) -> None:
        v, p = self._votes, self.params_
        mask = np.isin(v.i, items)
        local = np.searchsorted(items, v.i[mask])
        m, i = v.m[mask], v.i[mask]
        c, vecs = self._item_terms()
        offset = (
            p["b"][0] + p["bm"][m] + c[i] - p["d"][i] + np.einsum("ij,ij->i", p["U"][m], vecs[i])
        )
        theta = map_newton(
            local,
            np.ones((len(i), 1)),
            offset,
            v.y[mask],
            v.s[mask],
            p["d"][items][:, None],
            np.zeros(1),
            np.array([[self.reg_item_bias]]),
            n_iter=self.partial_max_iter,
        )
        p["d"][items] = theta[:, 0]

    def add_items(self, items: Items) -> None:
        """Make new items scorable from their content (existing ids are left as they are)."""
        fresh = ~np.isin(items.ids, self.item_ids_)
        if not fresh.any():
            return
        if items.features.shape[1] != self.X_.shape[1]:
            raise UsageError(
                f"items have {items.features.shape[1]} features; the model expects "
                f"{self.X_.shape[1]}"
            )
        if items.n_stats != self.n_stats_:
            raise UsageError(
                f"items end in {items.n_stats} statistic columns; the model expects {self.n_stats_}"
            )
        self.item_ids_ = np.concatenate([self.item_ids_, items.ids[fresh]])
        self._item_pos = pd.Index(self.item_ids_)
        self.X_ = np.vstack([self.X_, self._standardise(items.features[fresh])])
        n_new, k = int(fresh.sum()), self.n_factors
        self.params_["d"] = np.concatenate([self.params_["d"], np.zeros(n_new)])
        self.params_["E"] = np.vstack([self.params_["E"], np.zeros((n_new, k))])
        self.item_votes_ = np.concatenate([self.item_votes_, np.zeros(n_new)])
        self.item_info_ = np.concatenate([self.item_info_, np.zeros(n_new)])
        self.neighbour_intercept_ = np.concatenate([self.neighbour_intercept_, np.zeros(n_new)])
        self.neighbour_coef_ = np.vstack(
            [self.neighbour_coef_, np.zeros((n_new, self.neighbour_coef_.shape[1]))]
        )
        self.has_neighbour_ = np.concatenate([self.has_neighbour_, np.zeros(n_new, bool)])
        self.has_autoencoder_ = np.concatenate([self.has_autoencoder_, np.zeros(n_new, bool)])

    def _raw_components(self, member_ids: object, item_ids: object) -> dict[str, np.ndarray]:
        m = self._member_pos.get_indexer(np.asarray(member_ids).astype(str))
        i = self._item_codes(item_ids)
        p = self.params_
        c, v = self._item_terms()
        # Unknown members get the population mean: the collective's taste.
        bm = np.where(m >= 0, p["bm"][m], self.member_prior_mean_[0])
        u = np.where((m >= 0)[:, None], p["U"][m], self.member_prior_mean_[1:])
        z = p["b"][0] + bm + c[i] + np.einsum("ij,ij->i", u, v[i])
        parts = self._components(m, i, z)
        counts = np.bincount(self._votes.m, minlength=len(self.member_ids_))
        parts["member_votes"] = np.where(m >= 0, counts[np.maximum(m, 0)], 0).astype(float)
        return parts

    @_one_blas_thread
    def component_logits(self, member_ids: object, item_ids: object) -> dict[str, np.ndarray]:
        """Each part's logit per pair before the blend, NaN where an item lacks the part.

        Keys: ``factors`` (always), ``neighbours``, ``autoencoder``, and ``member_votes``
        (the member's vote count, which the stacked blend reads); for ablations.
        """
        return self._raw_components(member_ids, item_ids)

    @_one_blas_thread
    def predict_logit(self, member_ids: object, item_ids: object) -> np.ndarray:
        return self._blend(self._raw_components(member_ids, item_ids))

    def _blend(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        fixed = self._combine(parts["factors"], parts["neighbours"], parts["autoencoder"])
        if not len(self.stack_coef_):
            return fixed
        stacked = apply_stack(parts, parts["member_votes"], self.stack_coef_, self.stack_intercept_)
        return np.where(np.isfinite(stacked), stacked, fixed)

    def predict_proba(self, member_ids: object, item_ids: object) -> np.ndarray:
        """P(up) for each (member, item) pair; unknown members get the collective's taste."""
        return expit(self.predict_logit(member_ids, item_ids))

    @_one_blas_thread
    def collective_proba(self, item_ids: object) -> np.ndarray:
        """P(up) for a typical member (no personal terms): the community's predicted approval."""
        i = self._item_codes(item_ids)
        c, v = self._item_terms()
        mu = self.member_prior_mean_
        z = self.params_["b"][0] + mu[0] + c[i] + v[i] @ mu[1:]
        parts = self._components(np.full(len(i), -1), i, z)
        parts["member_votes"] = np.zeros(len(i))
        return expit(self._blend(parts))

    def item_uncertainty(self, item_ids: object) -> np.ndarray:
        """Posterior std of each item's own term (Laplace, diagonal); largest for unseen items."""
        i = self._item_codes(item_ids)
        return 1.0 / np.sqrt(self.reg_item_bias + self.item_info_[i])

    def item_vectors(self, item_ids: object) -> np.ndarray:
        """The items' taste-space vectors (collective score and factors) for diversity checks."""
        i = self._item_codes(item_ids)
        c, v = self._item_terms()
        return np.column_stack([c[i], v[i]])

    def item_vote_counts(self, item_ids: object) -> np.ndarray:
        return self.item_votes_[self._item_codes(item_ids)]

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Arrays to ``model.npz`` and a JSON model card to ``model.json`` (no pickle)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        v = self._votes
        arrays = {f"param_{k}": a for k, a in self.params_.items()}
        arrays.update(
            member_ids=self.member_ids_,
            item_ids=self.item_ids_,
            X=self.X_,
            feature_mean=self.feature_mean_,
            feature_scale=self.feature_scale_,
            vote_m=v.m,
            vote_i=v.i,
            vote_y=v.y,
            vote_s=v.s,
            member_prior_mean=self.member_prior_mean_,
            member_prior_prec=self.member_prior_prec_,
            anchors=self.anchors_,
            neighbour_coef=self.neighbour_coef_,
            neighbour_intercept=self.neighbour_intercept_,
            has_neighbour=self.has_neighbour_,
            has_autoencoder=self.has_autoencoder_,
            stack_coef=self.stack_coef_,
            stack_intercept=np.array([self.stack_intercept_]),
            **{f"autoencoder_{k}": a for k, a in self.autoencoder_.items()},
        )
        np.savez_compressed(directory / _MODEL_FILE, **arrays)
        (directory / _CARD_FILE).write_text(json.dumps(self.model_card_, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> TasteModel:
        directory = Path(directory)
        try:
            card = json.loads((directory / _CARD_FILE).read_text())
            data = np.load(directory / _MODEL_FILE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot load a taste model from {directory}: {exc}") from exc
        model = cls(**card["params"])
        model.params_ = {k: data[f"param_{k}"].copy() for k in _BLOCKS}
        model.member_ids_ = data["member_ids"]
        model.item_ids_ = data["item_ids"]
        model._member_pos = pd.Index(model.member_ids_)
        model._item_pos = pd.Index(model.item_ids_)
        model.X_ = data["X"]
        model.member_prior_mean_ = data["member_prior_mean"]
        model.member_prior_prec_ = data["member_prior_prec"]
        model.feature_mean_ = data["feature_mean"]
        model.feature_scale_ = data["feature_scale"]
        model.weight_scale_ = float(card["weight_scale"])
        model._votes = _Index(data["vote_m"], data["vote_i"], data["vote_y"], data["vote_s"])
        model.n_iter_ = int(card["n_iter"])
        model.n_stats_ = int(card.get("n_stats", 0))  # saved before statistics existed: 0
        if "anchors" in data.files:
            model.anchors_ = data["anchors"]
            model.neighbour_coef_ = data["neighbour_coef"]
            model.neighbour_intercept_ = data["neighbour_intercept"]
            model.has_neighbour_ = data["has_neighbour"]
        else:  # saved before neighbour regressions existed
            model._no_neighbours()
        model._no_autoencoder()
        if "autoencoder_W1" in data.files:  # saved with a trained autoencoder
            model.has_autoencoder_ = data["has_autoencoder"]
            model.autoencoder_ = {k: data[f"autoencoder_{k}"] for k in AUTOENCODER_KEYS}
        model._no_stack()
        if "stack_coef" in data.files:  # saved with a stacked blend (decision 0017)
            model.stack_coef_ = data["stack_coef"]
            model.stack_intercept_ = float(data["stack_intercept"][0])
        model._member_votes = None
        model._update_item_stats()
        model.model_card_ = card
        return model

    # ------------------------------------------------------------------ internals

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.feature_mean_) / self.feature_scale_

    def _item_codes(self, item_ids: object) -> np.ndarray:
        ids = np.asarray(item_ids).astype(str)
        i = self._item_pos.get_indexer(ids)
        if (i < 0).any():
            missing = ids[i < 0][0]
            raise UsageError(f"item {missing!r} has no features; add it with add_items first")
        return i

    def _encode(self, votes: Votes) -> _Index:
        i = self._item_pos.get_indexer(votes.item_ids)
        if (i < 0).any():
            missing = votes.item_ids[i < 0][0]
            raise UsageError(f"vote for item {missing!r}, which has no features")
        m = self._member_pos.get_indexer(votes.member_ids)
        return _Index(
            m.astype(np.int64),
            i.astype(np.int64),
            (votes.direction > 0).astype(float),
            votes.weight / self.weight_scale_,
        )

    def _item_terms(self) -> tuple[np.ndarray, np.ndarray]:
        p = self.params_
        return self.X_ @ p["w"] + p["d"], p["v0"] + self.X_ @ p["W"] + p["E"]

    def _regs(self) -> dict[str, float]:
        return {
            "bm": self.reg_member_bias,
            "U": self.reg_member,
            "d": self.reg_item_bias,
            "E": self.reg_item,
            "w": 0.0,
            "W": 0.0,
            "b": 0.0,
            "v0": 0.0,
        }

    def _optimise(
        self,
        keys: tuple[str, ...],
        max_iter: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Full-batch L-BFGS over the parameter blocks named in ``keys``."""
        v, p = self._votes, self.params_
        regs = self._regs()
        m, i, y, s = v.m, v.i, v.y, v.s
        n_m, n_i = len(p["bm"]), len(p["d"])
        # Few members x items (Jester): one dense matrix product beats a per-vote gather.
        dense = n_m * n_i <= _DENSE_RATIO * len(m)
        flat = m * n_i + i if dense else None
        # A fixed CSR layout (votes sorted by member) so each gradient is two sparse products.
        order = np.argsort(m, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(m, minlength=n_m))])
        indices = i[order]
        X = self.X_
        shapes = [p[k].shape for k in keys]
        sizes = [p[k].size for k in keys]

        def unpack(theta: np.ndarray) -> None:
            for k, chunk, shape in zip(
                keys, np.split(theta, np.cumsum(sizes)[:-1]), shapes, strict=True
            ):
                p[k][...] = chunk.reshape(shape)

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            unpack(theta)
            c, vecs = self._item_terms()
            if dense:
                z = (p["U"] @ vecs.T).ravel()[flat]
            else:
                z = np.einsum("ij,ij->i", p["U"][m], vecs[i])
            z += p["b"][0] + p["bm"][m] + c[i]
            # Weighted log loss, written stably: softplus(z) - y z.
            loss = float(np.sum(s * (np.logaddexp(0.0, z) - y * z)))
            r = s * (expit(z) - y)
            R = sparse.csr_matrix((r[order], indices, indptr), shape=(n_m, n_i))
            g_c = np.bincount(i, r, n_i)
            g_v = R.T @ p["U"]
            grads = {
                "b": np.array([r.sum()]),
                "bm": np.bincount(m, r, n_m),
                "U": R @ vecs,
                "d": g_c,
                "E": g_v,
                "w": X.T @ g_c,
                "W": X.T @ g_v,
                "v0": g_v.sum(axis=0),
            }
            out = []
            for k in keys:
                lam = regs[k]
                g = grads[k]
                if lam:
                    loss += 0.5 * lam * float(np.sum(p[k] ** 2))
                    g = g + lam * p[k]
                out.append(g.ravel())
            return loss, np.concatenate(out)

        theta0 = np.concatenate([p[k].ravel() for k in keys])
        done = [0]

        def step(_: np.ndarray) -> None:
            done[0] += 1
            if progress is not None:
                progress(done[0], max_iter)

        result = optimize.minimize(
            fun,
            theta0,
            jac=True,
            method="L-BFGS-B",
            callback=step,
            options={"maxiter": max_iter, "ftol": self.tol, "gtol": 1e-5},
        )
        unpack(result.x)
        return int(result.nit)

    def _fit_content_maps(self) -> None:
        """Ridge from standardised features to each voted item's (bias, factors).

        The penalty of each output is chosen by efficient leave-one-out cross-validation
        over items, so content only speaks for cold items as loudly as it predicts held-out
        items. Warm items' predictions are unchanged: their residuals absorb the rest.
        """
        p = self.params_
        counts = np.bincount(self._votes.i, minlength=len(self.item_ids_))
        voted = np.flatnonzero(counts > 0)
        if len(voted) < 3:
            return
        targets = np.column_stack([p["d"], p["E"]])[voted]
        coef, intercept, alphas = content_ridge(
            self.X_[voted], targets, np.sqrt(counts[voted]), self.n_stats_
        )
        self.content_alpha_ = alphas if self.n_stats_ else alphas[0]
        p["w"][...] = coef[0]
        p["W"][...] = coef[1:].T
        p["b"][0] += intercept[0]
        p["v0"] += intercept[1:]
        predicted = self.X_[voted] @ coef.T + intercept
        p["d"][voted] -= predicted[:, 0]
        p["E"][voted] -= predicted[:, 1:]

    def _set_member_prior(self) -> None:
        """Population mean and precision of (member bias, member factors) for fold-in.

        Estimated from members with enough votes to be well determined, as in one EM step
        of a hierarchical model: the covariance is the spread of their estimates plus
        their mean posterior (Laplace) covariance, since MAP estimates alone understate
        how much members differ. New members start at the mean (the collective's taste).
        """
        p = self.params_
        theta = np.column_stack([p["bm"], p["U"]])
        dim = theta.shape[1]
        counts = np.bincount(self._votes.m, minlength=len(theta))
        solid = np.flatnonzero(counts >= _SOLID_MEMBER_VOTES)
        fallback = np.diag([self.reg_member_bias] + [self.reg_member] * self.n_factors)
        if len(solid) <= 2 * dim + 2:
            self.member_prior_mean_ = np.zeros(dim)
            self.member_prior_prec_ = fallback
            return
        self.member_prior_mean_ = theta[solid].mean(axis=0)
        cov = np.atleast_2d(np.cov(theta[solid], rowvar=False))
        cov += self._mean_member_posterior_cov(solid, fallback)
        self.member_prior_prec_ = np.linalg.inv(cov + 1e-4 * np.eye(dim))

    def _mean_member_posterior_cov(self, members: np.ndarray, prior_prec: np.ndarray) -> np.ndarray:
        v = self._votes
        dim = prior_prec.shape[0]
        mask = np.isin(v.m, members)
        local = np.searchsorted(members, v.m[mask])
        _, vecs = self._item_terms()
        phi = np.column_stack([np.ones(int(mask.sum())), vecs[v.i[mask]]])
        q = expit(self._logits_of_votes()[mask])
        h = v.s[mask] * q * (1 - q)
        hess = np.empty((len(members), dim, dim))
        for a in range(dim):
            for b in range(a, dim):
                val = np.bincount(local, h * phi[:, a] * phi[:, b], len(members))
                hess[:, a, b] = val
                hess[:, b, a] = val
        hess += prior_prec
        return np.linalg.inv(hess).mean(axis=0)

    def _no_neighbours(self) -> None:
        n_i = len(self.item_ids_)
        self.anchors_ = np.zeros(0, dtype=np.int64)
        self.neighbour_coef_ = np.zeros((n_i, 0))
        self.neighbour_intercept_ = np.zeros(n_i)
        self.has_neighbour_ = np.zeros(n_i, bool)
        self._member_votes = None

    def _vote_matrix(self) -> sparse.csr_matrix:
        """Each member's latest vote (+1/-1) on each item, as a sparse members x items matrix."""
        if getattr(self, "_member_votes", None) is not None:
            return self._member_votes
        v = self._votes
        n_m, n_i = len(self.member_ids_), len(self.item_ids_)
        # A later vote on the same item replaces the earlier one: keep the last of each pair.
        key = v.m * n_i + v.i
        _, last = np.unique(key[::-1], return_index=True)
        keep = (len(key) - 1 - last).astype(np.int64)
        self._member_votes = sparse.csr_matrix(
            (2.0 * v.y[keep] - 1.0, (v.m[keep], v.i[keep])), shape=(n_m, n_i)
        )
        return self._member_votes

    def _anchor_matrix(self) -> sparse.csr_matrix:
        """Each member's latest vote (+1/-1) on each anchor item."""
        return self._vote_matrix()[:, self.anchors_]

    def _fit_neighbours(self, rng: np.random.Generator) -> None:
        """Per item, a logistic regression on the member's votes on the anchor items.

        The anchors are the ``neighbour_inputs`` most-voted items. Inputs are the vote
        (+1/-1, 0 if none) and whether there is one; the item's own vote is never an
        input. Training rows are repeated with votes hidden at random (keeping 10-100 %),
        so the regression also ranks well for members with a few votes. The penalty
        ``reg_neighbour`` counts in votes, like the other penalties.
        """
        self._no_neighbours()
        counts = np.bincount(self._votes.i, minlength=len(self.item_ids_))
        eligible = np.flatnonzero(counts >= _NEIGHBOUR_MIN_VOTES)
        if self.neighbour_inputs <= 0 or len(eligible) < 2:
            return
        from sklearn.linear_model import LogisticRegression

        order = eligible[np.argsort(-counts[eligible], kind="stable")]
        self.anchors_ = np.sort(order[: self.neighbour_inputs]).astype(np.int64)
        k = len(self.anchors_)
        self.neighbour_coef_ = np.zeros((len(self.item_ids_), 2 * k))
        anchor_votes = self._anchor_matrix()
        v = self._votes
        by_item = np.argsort(v.i, kind="stable")
        bounds = np.searchsorted(v.i[by_item], np.arange(len(self.item_ids_) + 1))
        for j in eligible:
            rows = by_item[bounds[j] : bounds[j + 1]]
            y = v.y[rows]
            if y.min() == y.max():
                continue
            x = anchor_votes[v.m[rows]].toarray()
            own = np.searchsorted(self.anchors_, j)
            if own < k and self.anchors_[own] == j:
                x[:, own] = 0.0
            copies = [x]
            for _ in range(_NEIGHBOUR_COPIES):
                share = rng.uniform(0.1, 1.0, (len(x), 1))
                copies.append(x * (rng.random(x.shape) < share))
            xx = np.vstack(copies)
            weight = np.tile(v.s[rows], len(copies)) / len(copies)
            lr = LogisticRegression(C=1.0 / self.reg_neighbour, max_iter=300)
            lr.fit(np.hstack([xx, xx != 0]), np.tile(y, len(copies)), sample_weight=weight)
            self.neighbour_coef_[j] = lr.coef_[0]
            self.neighbour_intercept_[j] = lr.intercept_[0]
            self.has_neighbour_[j] = True

    def _neighbour_logits(self, m: np.ndarray, i: np.ndarray) -> np.ndarray:
        """The neighbour regression's logit per pair; NaN where the item has none."""
        out = np.full(len(m), np.nan)
        if not self.has_neighbour_.any():
            return out
        anchor_votes = self._anchor_matrix()
        k = len(self.anchors_)
        for start in range(0, len(m), _PREDICT_CHUNK):
            sl = slice(start, start + _PREDICT_CHUNK)
            mm, ii = m[sl], i[sl]
            use = self.has_neighbour_[ii]
            if not use.any():
                continue
            x = np.zeros((int(use.sum()), k))
            known = mm[use] >= 0
            x[known] = anchor_votes[mm[use][known]].toarray()
            coef = self.neighbour_coef_[ii[use]]
            out[sl][use] = self.neighbour_intercept_[ii[use]] + np.einsum(
                "ij,ij->i", np.hstack([x, x != 0]), coef
            )
        return out

    def _no_autoencoder(self) -> None:
        self.autoencoder_: dict[str, np.ndarray] = {}
        self.has_autoencoder_ = np.zeros(len(self.item_ids_), bool)

    def _fit_autoencoder(self) -> None:
        """The vote autoencoder (decision 0016) on every member's latest votes."""
        self._no_autoencoder()
        counts = np.bincount(self._votes.i, minlength=len(self.item_ids_))
        if self.autoencoder_hidden <= 0 or (counts >= _NEIGHBOUR_MIN_VOTES).sum() < 2:
            return
        net = VoteAutoencoder(hidden=self.autoencoder_hidden, random_state=self.random_state)
        self.autoencoder_ = net.fit(self._vote_matrix()).params_
        self.has_autoencoder_ = counts >= _NEIGHBOUR_MIN_VOTES

    def _autoencoder_logits(self, m: np.ndarray, i: np.ndarray) -> np.ndarray:
        """The autoencoder's logit per pair; NaN where the item has none."""
        out = np.full(len(m), np.nan)
        if not self.has_autoencoder_.any():
            return out
        net = VoteAutoencoder()
        net.params_ = self.autoencoder_
        n_in = self.autoencoder_["W1"].shape[0] // 2  # items known when it was trained
        votes = self._vote_matrix()[:, :n_in]
        for start in range(0, len(m), _PREDICT_CHUNK):
            sl = slice(start, start + _PREDICT_CHUNK)
            mm, ii = m[sl], i[sl]
            use = np.flatnonzero(self.has_autoencoder_[ii])
            if not len(use):
                continue
            # Codes per distinct member; unknown members (-1) have no votes as input.
            members, inverse = np.unique(mm[use], return_inverse=True)
            rows = sparse.diags((members >= 0).astype(float)) @ votes[np.maximum(members, 0)]
            part = out[sl]
            part[use] = net.logits(net.codes(rows)[inverse], ii[use])
        return out

    def _combine(self, z: np.ndarray, nb: np.ndarray, ae: np.ndarray) -> np.ndarray:
        """The blend: mean of factors and neighbours, then ``autoencoder_weight`` of the
        autoencoder; each part only where the item has it (decisions 0015, 0016)."""
        out = np.where(np.isnan(nb), z, 0.5 * (z + nb))
        w = self.autoencoder_weight
        return np.where(np.isnan(ae), out, (1 - w) * out + w * ae)

    def _components(self, m: np.ndarray, i: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "factors": z,
            "neighbours": self._neighbour_logits(m, i),
            "autoencoder": self._autoencoder_logits(m, i),
        }

    def _no_stack(self) -> None:
        self.stack_coef_ = np.zeros(0)
        self.stack_intercept_ = 0.0

    def _fit_stack(self, votes: Votes, items: Items) -> None:
        """Blend weights by inner validation (``taste.stack``, decision 0017).

        A copy of the model with the fixed blend is fitted on the training votes minus an
        inner held-out split (some members keep only 10 votes, as newcomers do); the
        stacker is a logistic regression of the held-out votes on its parts' logits.
        """
        self._no_stack()
        if not self.stack_blend or not self.has_autoencoder_.any() or not self.has_neighbour_.any():
            return
        split = inner_split(votes, np.random.default_rng(self.random_state + 1))
        if len(split.held) == 0:
            return
        inner = TasteModel(**{**self.get_params(), "stack_blend": False}).fit(split.train, items)
        parts = inner._raw_components(split.held.member_ids, split.held.item_ids)
        y = (split.held.direction > 0).astype(float)
        try:
            self.stack_coef_, self.stack_intercept_ = fit_stack(
                parts, parts["member_votes"], y, split.held.weight
            )
        except ValueError:  # too few held-out votes on items with every part
            self._no_stack()

    def _update_item_stats(self) -> None:
        v = self._votes
        n_i = len(self.item_ids_)
        z = self._logits_of_votes()
        q = expit(z)
        self.item_votes_ = np.bincount(v.i, minlength=n_i).astype(float)
        # Fisher information of each item's bias term: sum of s p (1 - p) over its votes.
        self.item_info_ = np.bincount(v.i, v.s * q * (1 - q), n_i)

    def _logits_of_votes(self) -> np.ndarray:
        v, p = self._votes, self.params_
        c, vecs = self._item_terms()
        z = np.empty(len(v.m))
        step = 500_000
        for start in range(0, len(v.m), step):
            m, i = v.m[start : start + step], v.i[start : start + step]
            z[start : start + step] = (
                p["b"][0] + p["bm"][m] + c[i] + np.einsum("ij,ij->i", p["U"][m], vecs[i])
            )
        return z

    def _finish(self, started: float) -> None:
        self._update_item_stats()
        v = self._votes
        z = self._logits_of_votes()
        loss = float(np.average(np.logaddexp(0.0, z) - v.y * z, weights=v.s))
        acc = float(np.average((z > 0) == (v.y > 0.5), weights=v.s))
        self.model_card_ = {
            "model": "tastemaker.taste.TasteModel",
            "version": __version__,
            "params": self.get_params(),
            "votes_seen": len(v.m),
            "members": len(self.member_ids_),
            "items": len(self.item_ids_),
            "items_with_votes": int((self.item_votes_ > 0).sum()),
            "n_features": int(self.X_.shape[1]),
            "n_stats": self.n_stats_,
            "weight_scale": self.weight_scale_,
            "n_iter": int(getattr(self, "n_iter_", 0)),
            "content_alpha": getattr(self, "content_alpha_", None),
            "metrics": {"train_log_loss": loss, "train_accuracy": acc},
            "last_update_seconds": round(time.perf_counter() - started, 3),
        }
