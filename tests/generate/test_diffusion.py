"""The diffusion engine: genomes and operators (no torch), then the real pipeline code
path on a tiny randomly initialised Stable Diffusion saved to a temp folder."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate import Engine, Genome, available_engines
from tastemaker.generate.diffusion import DiffusionEngine
from tastemaker.generate.diffusion import genome as schema
from tastemaker.generate.diffusion.grammar import SLOTS, compose
from tastemaker.generate.diffusion.operators import Ranges, crossover_data, mutate_data, random_data
from tastemaker.settings import Settings
from tastemaker.store.media import encode_png
from tests.conftest import run_cli

HASH = "ab" * 32
RANGES = Ranges((2, 4), (1.0, 7.5))


def needs_diffusers() -> None:
    """Skip where the 'diffusion' extra is absent; CI installs it, so fail there."""
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install the 'diffusion' extra (make test does)")
        pytest.skip("needs the 'diffusion' extra")


def _settings(weights: Path | None, **extra: object) -> Settings:
    return Settings(
        diffusion_weights=weights,
        diffusion_steps=(2, 2),
        diffusion_device="cpu",
        diffusion_threads=1,
        **extra,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_diffusers()
    from tastemaker.generate.diffusion.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("weights") / "tiny-sd")


# ------------------------------------------------------------------ no torch needed


def test_diffusion_is_a_registered_engine_and_meets_the_protocol() -> None:
    assert "diffusion" in available_engines()
    engine = DiffusionEngine()
    assert isinstance(engine, Engine)
    assert engine.name == "diffusion" and engine.version == "1.0"
    with pytest.raises(UsageError, match="no version"):
        DiffusionEngine("0.1")


def test_compose_reads_like_a_prompt() -> None:
    prompt = {
        "subject": "a lighthouse",
        "scene": "at dawn",
        "medium": "watercolour",
        "style": "art nouveau",
        "modifiers": ["muted palette", "film grain"],
    }
    assert (
        compose(prompt)
        == "a lighthouse at dawn, watercolour, art nouveau, muted palette, film grain"
    )
    assert (
        compose(prompt | {"scene": "", "modifiers": []}) == "a lighthouse, watercolour, art nouveau"
    )


def test_random_mutate_crossover_are_valid_reproducible_and_stay_in_range() -> None:
    rng = np.random.default_rng(1)
    parents = [random_data(np.random.default_rng([5, i]), RANGES, HASH) for i in range(8)]
    assert parents[0] == random_data(np.random.default_rng([5, 0]), RANGES, HASH)
    prompts = {compose(p["prompt"]) for p in parents}
    assert len(prompts) == 8
    for i in range(200):
        a, b = parents[i % 8], parents[(i + 3) % 8]
        before = copy.deepcopy(a)
        child = mutate_data(a, rng, RANGES, HASH)
        assert a == before  # parents are never edited in place
        assert child != a
        mixed = crossover_data(a, b, rng, HASH)
        for data in (child, mixed):
            schema.validate(data)
            assert 2 <= data["steps"] <= 4 and 1.0 <= data["guidance"] <= 7.5
            for slot in SLOTS:
                assert data["prompt"][slot] in (a["prompt"][slot], b["prompt"][slot]) or (
                    data is child
                )
        assert mixed["seed"] in (a["seed"], b["seed"])
        assert set(mixed["prompt"]["modifiers"]) <= set(a["prompt"]["modifiers"]) | set(
            b["prompt"]["modifiers"]
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("seed"), "missing seed"),
        (lambda d: d.update(extra=1), "unknown keys extra"),
        (lambda d: d.update(seed=-1), "seed must be an integer"),
        (lambda d: d.update(seed=True), "seed must be an integer"),
        (lambda d: d.update(steps=0), "steps must be an integer"),
        (lambda d: d.update(guidance=float("nan")), "guidance must be a number"),
        (lambda d: d.update(weights="xyz"), "weights must be the 64-hex-digit"),
        (lambda d: d["prompt"].update(subject=""), "subject must not be empty"),
        (lambda d: d["prompt"].update(style=3), "prompt.style must be a string"),
        (lambda d: d["prompt"].update(medium="a\nb"), "printable text on one line"),
        (lambda d: d["prompt"].update(scene="x" * 201), "longer than 200"),
        (lambda d: d["prompt"].update(modifiers=["a", "a"]), "modifiers repeat"),
        (lambda d: d["prompt"].update(modifiers=list("abcdefg")), "at most 6"),
        (lambda d: d["prompt"].pop("scene"), "exactly the keys"),
    ],
)
def test_bad_genomes_get_a_clear_error(change, message: str) -> None:
    data = random_data(np.random.default_rng(0), RANGES, HASH)
    change(data)
    with pytest.raises(GenomeError, match=message):
        DiffusionEngine().validate(Genome("diffusion", data))


def test_genome_features_have_a_fixed_length() -> None:
    engine = DiffusionEngine()
    lengths = set()
    for i in range(10):
        data = random_data(np.random.default_rng(i), RANGES, HASH)
        lengths.add(engine.genome_features(Genome("diffusion", data)).shape)
    assert len(lengths) == 1


def test_screen_rejects_flat_images() -> None:
    engine = DiffusionEngine()
    assert not engine.screen(np.zeros((32, 32, 3), np.uint8))
    assert not engine.screen(np.full((32, 32, 3), 128, np.uint8))
    assert engine.screen(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))


def test_missing_weights_setting_says_what_to_set(tmp_path: Path) -> None:
    engine = DiffusionEngine(settings=_settings(None))
    assert engine.unavailable() == "needs TASTEMAKER_DIFFUSION_WEIGHTS"
    with pytest.raises(UsageError, match="needs TASTEMAKER_DIFFUSION_WEIGHTS"):
        engine.random(np.random.default_rng(0))


def test_a_folder_that_is_not_a_pipeline_is_refused_before_torch_loads(tmp_path: Path) -> None:
    missing = DiffusionEngine(settings=_settings(tmp_path / "nowhere"))
    with pytest.raises(UsageError, match="does not exist"):
        missing.random(np.random.default_rng(0))
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "notes.txt").write_text("hi")
    with pytest.raises(UsageError, match=r"no model_index\.json"):
        DiffusionEngine(settings=_settings(tmp_path / "w")).random(np.random.default_rng(0))
    (tmp_path / "w" / "model_index.json").write_text("{not json")
    with pytest.raises(UsageError, match="not JSON"):
        DiffusionEngine(settings=_settings(tmp_path / "w")).random(np.random.default_rng(0))
    index = {
        "_class_name": "StableDiffusionPipeline",
        "unet": ["diffusers", "UNet2DConditionModel"],
    }
    (tmp_path / "w" / "model_index.json").write_text(json.dumps(index))
    engine = DiffusionEngine(settings=_settings(tmp_path / "w"))
    assert "no unet/ folder" in (engine.unavailable() or "")
    with pytest.raises(UsageError, match=r"incomplete.*no unet/ folder"):
        engine.random(np.random.default_rng(0))


def test_bad_step_and_guidance_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="DIFFUSION_STEPS"):
        DiffusionEngine(settings=Settings(diffusion_steps=(5, 2))).ranges()
    with pytest.raises(UsageError, match="DIFFUSION_GUIDANCE"):
        DiffusionEngine(settings=Settings(diffusion_guidance=(-1.0, 2.0))).ranges()


def test_generate_without_weights_is_one_clear_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TASTEMAKER_DIFFUSION_WEIGHTS", raising=False)
    result = run_cli(
        "generate", "--engine", "diffusion", "--count", "2", "--size", "32",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "needs TASTEMAKER_DIFFUSION_WEIGHTS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


# ------------------------------------------------------------------ the real pipeline


def test_same_genome_same_bytes_on_cpu_and_seed_matters(tiny: Path) -> None:
    engine = DiffusionEngine(settings=_settings(tiny))
    genome = engine.random(np.random.default_rng(3))
    assert genome.data["weights"] == engine.weights()
    first = engine.render(genome, 32)
    assert first.shape == (32, 32, 3) and first.dtype == np.uint8
    assert engine.screen(first)
    again = DiffusionEngine(settings=_settings(tiny)).render(genome, 32)  # a fresh load
    assert first.tobytes() == again.tobytes()
    reseeded = Genome("diffusion", genome.data | {"seed": genome.data["seed"] + 1})
    assert engine.render(reseeded, 32).tobytes() != first.tobytes()
    other_prompt = copy.deepcopy(genome.data)
    other_prompt["prompt"]["subject"] = "a whale in the sky"
    assert engine.render(Genome("diffusion", other_prompt), 32).tobytes() != first.tobytes()
    # A size the model cannot draw directly is drawn larger and resized down.
    assert engine.render(genome, 30).shape == (30, 30, 3)


def test_a_genome_from_other_weights_names_both_hashes(tiny: Path) -> None:
    engine = DiffusionEngine(settings=_settings(tiny))
    data = engine.random(np.random.default_rng(0)).data | {"weights": HASH}
    with pytest.raises(GenomeError, match=f"made with diffusion weights {HASH[:12]}"):
        engine.render(Genome("diffusion", data), 32)
    # It still breeds: its children are made on these weights.
    child = engine.mutate(Genome("diffusion", data), np.random.default_rng(1))
    assert child.data["weights"] == engine.weights()


def test_truncated_weights_file_is_a_clear_error(tiny: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    unet = broken / "unet" / "diffusion_pytorch_model.safetensors"
    unet.write_bytes(unet.read_bytes()[:1000])
    engine = DiffusionEngine(settings=_settings(broken))
    genome = engine.random(np.random.default_rng(0))
    with pytest.raises(UsageError, match=r"cannot load diffusion weights .*corrupt or incomplete"):
        engine.render(genome, 32)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    engine = DiffusionEngine(settings=_settings(broken))
    with pytest.raises(UsageError, match="cannot load diffusion weights"):
        engine.render(engine.random(np.random.default_rng(0)), 32)


def _tiny_env(monkeypatch: pytest.MonkeyPatch, tiny: Path) -> None:
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_WEIGHTS", str(tiny))
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_DEVICE", "cpu")
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_THREADS", "1")
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_STEPS", "[2, 2]")


def test_a_diffusion_work_re_renders_from_its_recipe(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `tastemaker verify` does for a minted winner: recipe -> the same bytes."""
    from tastemaker.generate.registry import get_engine
    from tastemaker.generate.reproduce import check_rerender, render_recipe

    _tiny_env(monkeypatch, tiny)
    get_engine.cache_clear()
    try:
        engine = get_engine("diffusion")
        genome = engine.random(np.random.default_rng(9))
        recipe = {"engine": "diffusion", "engine_version": "1.0", "size": 32, "genome": genome.data}
        made = engine.render(genome, 32)
        digest = hashlib.sha256(render_recipe(recipe)).hexdigest()
        assert digest == hashlib.sha256(encode_png(made)).hexdigest()
        assert hashlib.sha256(render_recipe(recipe | {"size": 16})).hexdigest() != digest
        ok, detail = check_rerender(recipe, digest)
        assert ok, detail
    finally:
        get_engine.cache_clear()


@pytest.mark.slow
def test_generate_cli_end_to_end_same_seed_same_files(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tiny_env(monkeypatch, tiny)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        result = run_cli(
            "generate", "--engine", "diffusion", "--count", "3", "--size", "32",
            "--seed", "7", "--out", str(out),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outs.append(out)
    files = [sorted(p.name for p in out.iterdir()) for out in outs]
    assert files[0] == files[1] and len(files[0]) == 4  # 3 PNGs + manifest.jsonl
    for name in files[0]:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()
    lines = [json.loads(line) for line in (outs[0] / "manifest.jsonl").read_text().splitlines()]
    assert {line["engine"] for line in lines} == {"diffusion"}
    assert {line["size"] for line in lines} == {32}
    weights = DiffusionEngine(settings=_settings(tiny)).weights()
    assert {line["genome"]["weights"] for line in lines} == {weights}
