"""The jokes demo (issue 13 item 6): rounds of imported Jester jokes judged by members
who replay real Jester raters, end to end through export and verify; and its bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tastemaker.core.media import TEXT_PLAIN
from tastemaker.demo.jester_members import JesterCommunity, JesterRatings, joke_round_sizes
from tastemaker.errors import UsageError

DATA = Path("/work/shared/data/jester")
JOKES = DATA / "jokes.csv"
needs_jester = pytest.mark.skipif(not JOKES.exists(), reason="needs the shared Jester data")
ROOT = Path(__file__).resolve().parents[2]


def _cli(home: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    env = os.environ | {"TASTEMAKER_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "tastemaker", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


@pytest.mark.slow
@needs_jester
def test_jokes_demo_runs_exports_and_verifies(tmp_path) -> None:
    home = tmp_path / "home"
    run = _cli(home, "demo", "--engine", "submissions", "--from", str(JOKES),
               "--weeks", "2", "--members", "20")  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((home / "report" / "summary.json").read_text())
    assert [w["round"] for w in summary["weeks"]] == [1, 2]
    for week in summary["weeks"]:
        assert 0.0 <= week["pool_approval"] <= week["best_approval"] <= 1.0
        assert week["winner_approval"] <= week["best_approval"]
        assert week["votes_to_flip"] is None or week["votes_to_flip"] >= 1
    assert summary["weeks"][0]["model_auc"] is None  # nothing learned before round 1
    assert summary["weeks"][1]["model_auc"] is not None
    with sqlite3.connect(home / "tastemaker.db") as db:
        types = {t for (t,) in db.execute(
            "SELECT DISTINCT w.media_type FROM works w"
            " JOIN pool_entries p ON p.work = w.content_hash"
        )}  # fmt: skip
        pools = [
            {w for (w,) in db.execute("SELECT work FROM pool_entries WHERE round = ?", (n,))}
            for n in (1, 2)
        ]
        winners = [w for (w,) in db.execute("SELECT winner FROM rounds ORDER BY number")]
        created = dict(db.execute("SELECT round_created, count(*) FROM works GROUP BY 1"))
    assert types == {TEXT_PLAIN}
    assert winners[0] not in pools[1]  # a sold joke is never offered again
    new, pool = joke_round_sizes(70, 2)
    # Each week brings new jokes (as many as were drawn unseen, up to its share).
    assert created[1] == new and 1 <= created[2] <= new
    assert len(pools[1]) <= pool
    page = (home / "report" / "index.html").read_text()
    assert "class='text-work'" in page and "Jester" in page  # jokes set as text
    record = tmp_path / "round-1.json"
    exported = _cli(home, "export", "--round", "1", "--out", str(record))
    assert exported.returncode == 0, exported.stderr
    verified = _cli(home, "verify", str(record))
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    assert "round 1 verifies" in verified.stdout


def _bad(tmp_path: Path, *args: str) -> str:
    home = tmp_path / "home"
    run = _cli(home, "demo", "--weeks", "1", "--members", "3", *args, timeout=120)
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert not home.exists(), "a refused demo must write nothing"
    return lines[0]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path) -> None:
    ratings = tmp_path / "ratings.csv.gz"
    import gzip

    with gzip.open(ratings, "wt") as f:
        f.write("member_id,item_id,rating\nu1,j1,3.5\nu1,j2,-1\nu2,j1,2\n")
    missing = tmp_path / "absent.csv"
    assert "no such file" in _bad(tmp_path, "--engine", "submissions", "--from", str(missing),
                                  "--ratings", str(ratings))  # fmt: skip
    not_utf8 = tmp_path / "latin1.csv"
    not_utf8.write_bytes("item_id,text\nj1,caf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in _bad(tmp_path, "--engine", "submissions", "--from", str(not_utf8),
                               "--ratings", str(ratings))  # fmt: skip
    jokes = tmp_path / "jokes.csv"
    jokes.write_text("item_id,text\nj1,one joke\nj2,another joke\nj3,a third\n")
    lonely = tmp_path / "alone" / "jokes.csv"  # no ratings.csv.gz beside it
    lonely.parent.mkdir()
    lonely.write_text(jokes.read_text())
    assert "is not a file" in _bad(tmp_path, "--engine", "submissions", "--from", str(lonely))
    assert "no one rated every imported joke (j3 rated by nobody)" in _bad(
        tmp_path, "--engine", "submissions", "--from", str(jokes), "--ratings", str(ratings)
    )
    assert "need --engine submissions" in _bad(tmp_path, "--from", str(jokes))
    assert "needs --from" in _bad(tmp_path, "--engine", "submissions")
    assert "not 'llm'" in _bad(tmp_path, "--engine", "llm")


def test_jester_members_replay_real_ratings(tmp_path) -> None:
    import gzip

    path = tmp_path / "ratings.csv.gz"
    rows = ["member_id,item_id,rating"]
    rows += [f"u{p},j{i},{(-1) ** (p + i) * (i + 0.5)}" for p in range(6) for i in range(4)]
    rows += ["u9,j0,5"]  # rated one joke only: not eligible, nothing imputed for it
    with gzip.open(path, "wt") as f:
        f.write("\n".join(rows) + "\n")
    ratings = JesterRatings.read(path, ["j0", "j1", "j2", "j3"])
    assert ratings.people == tuple(f"u{p}" for p in range(6))
    community = JesterCommunity(ratings, n_members=4, seed=3)
    up = community.up_probability(["j2", "j0"])
    for row, member in zip(up, community.members, strict=True):
        p = int(member.member_id.removeprefix("jester-u"))
        assert row.tolist() == [float((p + 2) % 2 == 0), float(p % 2 == 0)]
    with pytest.raises(UsageError, match="only 6 Jester members rated every joke"):
        JesterCommunity(ratings, n_members=7)
    with pytest.raises(UsageError, match="no Jester ratings for joke 'j9'"):
        community.up_probability(["j9"])


def test_pools_spread_the_jokes_over_the_weeks() -> None:
    assert joke_round_sizes(70, 2) == (23, 46)
    assert joke_round_sizes(70, 4) == (14, 28)
    assert joke_round_sizes(3, 10) == (2, 4)
