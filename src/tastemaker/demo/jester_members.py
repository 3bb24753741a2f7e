"""Simulated members who judge jokes as real people did: each replays one Jester member.

The jokes demo (``tastemaker demo --engine submissions --from jokes.csv``) needs members
whose taste the system cannot read back from its own features. Jester (Goldberg et al.,
``ratings.csv.gz`` beside ``jokes.csv``) has the ratings of 24,983 people on the same
70 jokes. Each simulated member is one of those people, drawn at random (seeded) from
the ones who rated every joke of the import, so no rating is imputed and no joke is
unseen for want of one (decision 0064). A member shown a joke votes up when that
person rated it above 0 (the data's own convention, README of the data set), down
otherwise; whether they vote at all, how many jokes they are shown and their stake
follow ``sim.community.Community`` (attention, views, log-normal voting power), and so
does the exposure policy, which this class inherits unchanged.

The hidden truth the demo reports (a joke's approval) is the share of the members
who rated it up: real people's opinion, never shown to the taste model.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tastemaker.errors import UsageError
from tastemaker.rounds.curation import Candidate
from tastemaker.rounds.exposure import VOTE_PAGE
from tastemaker.sim.community import Community, SimMember

RATINGS_FILE = "ratings.csv.gz"


@dataclass(frozen=True)
class JesterRatings:
    """Ratings of the people who rated every given item: (people, items) in [-10, 10]."""

    people: tuple[str, ...]
    items: tuple[str, ...]
    ratings: np.ndarray

    @classmethod
    def read(cls, path: Path, items: Sequence[str]) -> JesterRatings:
        """The ratings in ``path`` of everyone who rated all of ``items``."""
        index = {item: k for k, item in enumerate(items)}
        rows: dict[str, np.ndarray] = {}
        try:
            with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                if not {"member_id", "item_id", "rating"} <= set(reader.fieldnames or []):
                    raise UsageError(f"{path} needs the columns member_id,item_id,rating")
                for row in reader:
                    k = index.get(row["item_id"])
                    if k is None:
                        continue
                    person = rows.get(row["member_id"])
                    if person is None:
                        person = rows[row["member_id"]] = np.full(len(items), np.nan)
                    person[k] = float(row["rating"])
        except UsageError:
            raise
        except (OSError, EOFError, ValueError, csv.Error) as exc:
            raise UsageError(f"cannot read the Jester ratings {path}: {exc}") from None
        complete = sorted(p for p, r in rows.items() if not np.isnan(r).any())
        if not complete:
            unrated = [i for i in items if all(np.isnan(r[index[i]]) for r in rows.values())]
            detail = f" ({', '.join(unrated[:5])} rated by nobody)" if unrated else ""
            raise UsageError(f"{path}: no one rated every imported joke{detail}")
        return cls(tuple(complete), tuple(items), np.vstack([rows[p] for p in complete]))


class JesterCommunity(Community):
    """``Community`` whose members' votes replay real Jester people (module docstring).

    Works are named by their submission ``item_id``s (``look`` maps a pool candidate to
    it); ``up_probability`` is each member's real verdict, 0 or 1.
    """

    def __init__(
        self,
        ratings: JesterRatings,
        n_members: int,
        attention: float = 0.6,
        views_per_member: int = 24,
        seed: int = 0,
    ) -> None:
        if n_members < 1:
            raise UsageError("a community needs at least one member")
        if n_members > len(ratings.people):
            raise UsageError(
                f"only {len(ratings.people)} Jester members rated every joke; "
                f"ask for at most that many members"
            )
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(len(ratings.people), size=n_members, replace=False))
        self.views_per_member = views_per_member
        self.policy = VOTE_PAGE
        self.members = [
            SimMember(
                member_id=f"jester-{ratings.people[k]}",
                taste=np.zeros(0),  # the taste is the person's ratings, not a vector
                strictness=0.0,
                voting_power=float(np.exp(rng.normal(0.0, 1.0)) * 100),
                attention=float(np.clip(rng.beta(2, 2) * 2 * attention, 0.05, 1.0)),
            )
            for k in chosen
        ]
        self._up = (ratings.ratings[chosen] > 0).astype(float)  # members x items
        self._column = {item: k for k, item in enumerate(ratings.items)}

    def calibrate(self, reference_images: Sequence[np.ndarray]) -> None:
        raise UsageError("Jester members need no calibration: their ratings are real")

    @staticmethod
    def look(candidate: Candidate) -> str:
        """What a member judges a pool work by: the imported joke's item_id."""
        item = candidate.genome.data.get("item_id")
        if not isinstance(item, str):
            raise UsageError("Jester members judge imported jokes (submissions) only")
        return item

    def up_probability(self, images: Sequence[str]) -> np.ndarray:  # type: ignore[override]
        """Each member's real verdict on each joke (1 up, 0 down): (members, jokes)."""
        try:
            columns = [self._column[item] for item in images]
        except KeyError as exc:
            raise UsageError(f"no Jester ratings for joke {exc.args[0]!r}") from None
        return self._up[:, columns]


def ratings_beside(source: Path) -> Path:
    """Where the ratings of ``jokes.csv`` are: ``ratings.csv.gz`` in the same folder."""
    return source.parent / RATINGS_FILE


def joke_round_sizes(n_jokes: int, weeks: int) -> tuple[int, int]:
    """(new works per week, rolling pool size) for a fixed set of ``n_jokes``.

    A joke enters one pool as a new work only once and a sold winner never comes back
    (the round service's rule), so the set is spread over ``weeks + 1`` shares: each
    week brings ``n_jokes // (weeks + 1)`` new jokes, which leaves the last week's
    curation still a choice among about twice as many. The pool rolls over like the
    image demo's (last week's works minus the winner, plus the new ones) up to twice a
    week's new works; the weakest are culled past that.
    """
    new = max(2, n_jokes // (weeks + 1))
    return new, 2 * new
