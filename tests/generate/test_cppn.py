import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate import Engine, Genome, get_engine
from tastemaker.generate.cppn.network import INPUTS, OUTPUTS
from tastemaker.generate.cppn.palette import oklch_to_srgb, random_palette
from tastemaker.generate.cppn.screen import passes_screen, quality_flags
from tastemaker.store.media import encode_png

ENGINE = get_engine("cppn")


def _good_genome(seed: int = 0) -> Genome:
    rng = np.random.default_rng(seed)
    while True:
        genome = ENGINE.random(rng)
        if ENGINE.screen(ENGINE.render(genome, 64)):
            return genome


def test_engine_satisfies_the_protocol_and_names_itself() -> None:
    assert isinstance(ENGINE, Engine)
    assert ENGINE.name == "cppn"
    assert ENGINE.version


def test_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'nope'.*cppn"):
        get_engine("nope")


def test_render_is_reproducible_to_the_byte() -> None:
    genome = _good_genome(1)
    first = encode_png(ENGINE.render(genome, 128))
    again = encode_png(get_engine("cppn").render(Genome.loads(_dump(genome)), 128))
    assert first == again


def _dump(genome: Genome) -> str:
    from tastemaker.generate.genome import canonical_json

    return canonical_json(genome.to_json())


def test_render_any_size_shows_the_same_picture() -> None:
    genome = _good_genome(2)
    small = ENGINE.render(genome, 64).astype(float)
    large = ENGINE.render(genome, 256).astype(float)
    downsampled = large.reshape(64, 4, 64, 4, 3).mean(axis=(1, 3))
    assert small.shape == (64, 64, 3)
    assert large.shape == (256, 256, 3)
    assert np.abs(small - downsampled).mean() < 20  # same composition, finer detail


@pytest.mark.parametrize("size", [0, -5, 8193])
def test_render_refuses_sizes_out_of_range(size: int) -> None:
    with pytest.raises(UsageError, match="size must be between 1 and 8192"):
        ENGINE.render(_good_genome(), size)


def test_mutation_and_crossover_record_parents_and_change_the_recipe() -> None:
    rng = np.random.default_rng(3)
    a, b = ENGINE.random(rng), ENGINE.random(rng)
    child = ENGINE.mutate(a, rng)
    assert child.parents == (a.id,)
    cross = ENGINE.crossover(a, b, rng)
    assert cross.parents == (a.id, b.id)
    ids = {ENGINE.mutate(a, rng).id for _ in range(20)}
    assert len(ids) > 15  # mutation explores, it does not return copies


def test_add_node_splits_a_connection_with_a_shared_innovation_id() -> None:
    from tastemaker.generate.cppn.operators import _add_node

    rng = np.random.default_rng(4)
    genome = ENGINE.random(rng)
    one, two = copy.deepcopy(genome.data), copy.deepcopy(genome.data)
    _add_node(one, np.random.default_rng(9))
    _add_node(two, np.random.default_rng(9))
    new_one = {n["id"] for n in one["nodes"]} - {n["id"] for n in genome.data["nodes"]}
    new_two = {n["id"] for n in two["nodes"]} - {n["id"] for n in genome.data["nodes"]}
    assert new_one == new_two and len(new_one) == 1  # same split, same id in any lineage


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12))
def test_variation_always_yields_valid_acyclic_genomes(seed: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    population = [ENGINE.random(rng) for _ in range(3)]
    for _ in range(steps):
        i, j = rng.integers(len(population), size=2)
        child = (
            ENGINE.mutate(population[i], rng)
            if rng.random() < 0.6
            else ENGINE.crossover(population[i], population[j], rng)
        )
        ENGINE.validate(child)
        population.append(child)
    image = ENGINE.render(population[-1], 16)
    assert image.dtype == np.uint8 and image.shape == (16, 16, 3)


def _valid_data() -> dict:
    return copy.deepcopy(_good_genome().data)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: d.pop("palette"), "missing 'palette'"),
        (lambda d: d["coords"].update(symmetry="spiral"), "'symmetry' must be one of"),
        (lambda d: d["coords"].update(zoom=float("nan")), "'zoom' must be a finite number"),
        (lambda d: d["palette"].update(colors=["#zzzzzz", "#000000"]), "bad colour"),
        (lambda d: d["nodes"][0].update(act="relu6"), "unknown activation"),
        (
            lambda d: d["conns"].append({"src": "tone", "dst": "x", "w": 1.0, "on": True}),
            "must go forward",
        ),
        (
            lambda d: d["conns"].append({"src": "ghost", "dst": "tone", "w": 1.0, "on": True}),
            "unknown nodes",
        ),
        (
            lambda d: d.update(nodes=[n for n in d["nodes"] if n["id"] != "shade"]),
            "no output node 'shade'",
        ),
    ],
)
def test_validate_names_what_is_wrong(corrupt, message: str) -> None:
    data = _valid_data()
    corrupt(data)
    with pytest.raises(GenomeError, match=message):
        ENGINE.render(Genome("cppn", data), 32)


def test_validate_refuses_another_engines_genome() -> None:
    with pytest.raises(GenomeError, match="for engine 'other'"):
        ENGINE.validate(Genome("other", _valid_data()))


def test_screen_rejects_flat_and_noise_and_plain_gradients() -> None:
    flat = np.full((128, 128, 3), 120, dtype=np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    ramp = np.repeat(np.linspace(0, 255, 128, dtype=np.uint8)[None, :, None], 128, 0)
    gradient = np.repeat(ramp, 3, axis=2)
    for image in (flat, noise, gradient):
        assert not passes_screen(image), quality_flags(image)
    assert passes_screen(ENGINE.render(_good_genome(5), 128))


def test_genome_features_have_a_fixed_length() -> None:
    rng = np.random.default_rng(6)
    lengths = {ENGINE.genome_features(ENGINE.random(rng)).shape for _ in range(10)}
    assert len(lengths) == 1


def test_palettes_stay_in_gamut_and_ramp_in_lightness() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        colors = random_palette(rng)
        assert 3 <= len(colors) <= 6 and all(c.startswith("#") and len(c) == 7 for c in colors)
    rgb = oklch_to_srgb(np.array([[0.5, 0.4, 0.1], [1.0, 0.0, 0.0]]))
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert np.allclose(rgb[1], 1.0, atol=1e-3)  # OKLCH white is sRGB white


def test_inputs_and_outputs_are_reserved_names() -> None:
    data = _valid_data()
    data["nodes"][0]["id"] = INPUTS[0]
    with pytest.raises(GenomeError, match="bad node id"):
        ENGINE.validate(Genome("cppn", data))
    assert set(OUTPUTS) <= {n["id"] for n in _valid_data()["nodes"]}


# sha256 of the pixels of 24 random genomes at 48 and 97 px, as engine version 1.0
# renders them. Renders are content: a change that moves one pixel must bump
# CPPNEngine.version (and this digest), never slip through an optimisation.
def test_the_fast_histogram_equals_numpys() -> None:
    from tastemaker.generate.cppn.screen import _histogram16

    rng = np.random.default_rng(4)
    for _ in range(200):
        luma = rng.random((40, 40)).astype(np.float32)
        edges = rng.random((40, 40)) < 0.2  # many values exactly on bin edges
        luma[edges] = rng.integers(0, 17, edges.sum()) / 16
        luma[0, :3] = [np.nextafter(np.float32(1), np.float32(2)), 1.0, 0.0]
        assert np.array_equal(_histogram16(luma), np.histogram(luma, 16, (0.0, 1.0))[0])


def test_the_engine_keeps_compiled_networks_bounded() -> None:
    from tastemaker.generate.cppn.engine import CPPNEngine

    engine = CPPNEngine()
    rng = np.random.default_rng(9)
    for _ in range(engine._NETWORKS_KEPT + 10):
        engine.render(engine.random(rng), 16)
    assert len(engine._networks) == engine._NETWORKS_KEPT
