"""The flame engine: genomes, operators, validation, rendering and the screen."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate import Engine, Genome, available_engines, get_engine
from tastemaker.generate.flame import FlameEngine
from tastemaker.generate.flame.engine import _select_table
from tastemaker.generate.flame.screen import passes_screen
from tastemaker.generate.flame.variations import VARIATIONS, variation, vary_rows

ENGINE = FlameEngine()


def _genome(i: int) -> Genome:
    return ENGINE.random(np.random.default_rng([77, i]))


def test_flame_is_a_registered_engine_and_meets_the_protocol() -> None:
    assert "flame" in available_engines()
    engine = get_engine("flame")
    assert isinstance(engine, Engine)
    assert engine.name == "flame" and engine.version == "1.1"
    assert get_engine("flame", "1.0").version == "1.0"  # works made by 1.0 render with it
    with pytest.raises(UsageError, match="no version"):
        FlameEngine("0.1")


def test_at_least_a_dozen_variations() -> None:
    assert len(VARIATIONS) >= 12
    assert {"linear", "sinusoidal", "spherical", "swirl", "julia", "polar"} <= set(VARIATIONS)


def test_random_genomes_are_valid_and_reproducible() -> None:
    for i in range(20):
        g = _genome(i)
        ENGINE.validate(g)
        assert g.id == _genome(i).id
        assert g.to_json()["engine"] == "flame"


def test_mutation_and_crossover_give_valid_children_with_lineage() -> None:
    rng = np.random.default_rng(3)
    parents = [_genome(i) for i in range(6)]
    changed = 0
    for i in range(60):
        a, b = parents[i % 6], parents[(i + 1) % 6]
        child = ENGINE.mutate(a, rng)
        ENGINE.validate(child)
        assert child.parents == (a.id,)
        changed += child.id != a.id
        mixed = ENGINE.crossover(a, b, rng)
        ENGINE.validate(mixed)
        assert mixed.parents == (a.id, b.id)
        ids = {x["affine"].__repr__() for x in a.data["xforms"] + b.data["xforms"]}
        assert all(repr(x["affine"]) in ids for x in mixed.data["xforms"])
    assert changed >= 55
    # operators never change their inputs
    assert [p.id for p in parents] == [_genome(i).id for i in range(6)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("tone"), "missing 'tone'"),
        (lambda d: d.update(xforms=[]), "'xforms' must list"),
        (lambda d: d["xforms"][0].update(affine=[1, 2]), r"xforms\[0\]\.affine must be 6"),
        (lambda d: d["xforms"][0].update(variations={"nope": 1.0}), "unknown variation 'nope'"),
        (lambda d: d["xforms"][0].update(variations={}), "variations must map"),
        (lambda d: d["xforms"][0].update(weight=0), "weight must be above 0"),
        (lambda d: d["xforms"][0].update(color=float("nan")), "color must be a finite"),
        (lambda d: d["xforms"][0].update(speed=2), r"speed must be in \[0.0, 1.0\]"),
        (lambda d: d.update(symmetry=0), "'symmetry' must be an integer"),
        (lambda d: d.update(symmetry=True), "'symmetry' must be an integer"),
        (lambda d: d["palette"].update(colors=["#zzzzzz", "#000000"]), "bad colour"),
        (lambda d: d["view"].update(zoom=0), "view.zoom"),
        (lambda d: d["tone"].update(gamma="3"), "tone.gamma' must be a finite"),
        (lambda d: d.update(final={"affine": [0] * 6}), "final.variations"),
        (lambda d: d.update(xforms="x"), "'xforms' must list"),
    ],
)
def test_bad_genomes_give_a_clear_genome_error(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(_genome(0).data)
    edit(data)
    with pytest.raises(GenomeError, match=message):
        ENGINE.validate(Genome("flame", data))
    with pytest.raises(GenomeError):
        ENGINE.render(Genome("flame", data), 32)


def test_a_genome_for_another_engine_is_refused() -> None:
    with pytest.raises(GenomeError, match="not 'flame'"):
        ENGINE.validate(Genome("cppn", _genome(0).data))


def test_render_is_deterministic_and_shaped() -> None:
    g = _genome(1)
    a = ENGINE.render(g, 64)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, FlameEngine().render(g, 64))  # a fresh engine, no caches
    assert ENGINE.render(g, 1).shape == (1, 1, 3)
    with pytest.raises(UsageError, match="size must be"):
        ENGINE.render(g, 0)


def test_genomes_that_fly_apart_render_black_and_fail_the_screen() -> None:
    data = copy.deepcopy(_genome(2).data)
    for xf in data["xforms"]:
        xf["affine"] = [50.0, 0.0, 1.0, 0.0, 50.0, 1.0]
        xf["variations"] = {"linear": 5.0}
    data["final"] = None
    image = ENGINE.render(Genome("flame", data), 48)
    assert image.max() == 0
    assert not passes_screen(image)


def test_the_screen_keeps_most_random_flames_and_rejects_flat_and_noise() -> None:
    kept = sum(passes_screen(ENGINE.render(_genome(i), 64)) for i in range(24))
    assert kept >= 12
    assert not passes_screen(np.zeros((64, 64, 3), np.uint8))
    assert not passes_screen(np.full((64, 64, 3), 200, np.uint8))
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert not passes_screen(noise)


def test_the_selection_table_follows_the_weights() -> None:
    table = _select_table([1.0, 3.0])
    assert table.dtype == np.int32 and len(table) == 1024
    assert (table == 1).sum() == 768
    assert _select_table([1.0]).max() == 0


def test_genome_features_are_a_fixed_length_finite_vector() -> None:
    lengths = set()
    for i in range(8):
        f = ENGINE.genome_features(_genome(i))
        assert f.dtype == np.float32 and np.isfinite(f).all()
        lengths.add(f.shape)
    assert len(lengths) == 1


@pytest.mark.slow
def test_cli_generate_twice_with_one_seed_gives_identical_files(tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "tastemaker", "generate", "--engine", "flame",
             "--count", "4", "--size", "96", "--seed", "5", "--out", str(out)],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1]
    assert sum(name.endswith(".png") for name in outs[0]) == 4


def test_flame_1_1_draws_flame_1_0s_pictures() -> None:
    """1.1 plays many walkers and plots all symmetry copies of each point: the same
    picture with other grain, so 8x8 block means and overall brightness agree."""
    old, new = FlameEngine("1.0"), FlameEngine("1.1")

    def blocks(image: np.ndarray) -> np.ndarray:
        return image.reshape(16, 8, 16, 8, 3).astype(float).mean(axis=(1, 3))

    for i in range(8):
        genome = _genome(i)
        a, b = old.render(genome, 128), new.render(genome, 128)
        assert abs(a.astype(float).mean() - b.astype(float).mean()) < 2
        assert np.abs(blocks(a) - blocks(b)).mean() < 8


def test_the_row_variations_give_the_bits_of_the_pointwise_ones() -> None:
    """Flame 1.1 runs each variation over a group of walkers (vary_rows); the
    expressions must be those of ``variation``, bit for bit."""
    rng = np.random.default_rng(5)
    count = 301
    xs = (rng.normal(0, 2, count) * rng.choice([1e-6, 1, 50], count)).astype(np.float32)
    ys = (rng.normal(0, 2, count) * rng.choice([1e-6, 1, 50], count)).astype(np.float32)
    xs[:3], ys[:3] = 0, 0  # the origin (r2 is only epsilon)
    flips = rng.integers(0, 2, count).astype(np.int64)
    for code in range(len(VARIATIONS)):
        w = np.float32(rng.uniform(-1.5, 1.5))
        nx = rng.normal(0, 1, count).astype(np.float32)
        ny = rng.normal(0, 1, count).astype(np.float32)
        expected_x, expected_y = nx.copy(), ny.copy()
        for i in range(count):
            dx, dy = variation(code, w, xs[i], ys[i], flips[i])
            expected_x[i] += dx
            expected_y[i] += dy
        vary_rows(code, w, xs, ys, flips, nx, ny, count)
        assert nx.tobytes() == expected_x.tobytes(), VARIATIONS[code]
        assert ny.tobytes() == expected_y.tobytes(), VARIATIONS[code]
