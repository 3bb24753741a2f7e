"""The llm engine against a local OpenAI-compatible test server: genomes, evolution,
works, and one-line errors for an endpoint that is down, slow or talks garbage."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from tastemaker.core.media import TEXT_PLAIN
from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate import Engine, Genome
from tastemaker.generate.batch import generate_works
from tastemaker.generate.llm import LLMEngine
from tastemaker.generate.llm import genome as schema
from tastemaker.generate.llm.settings import LLMSettings
from tests.conftest import run_cli
from tests.generate.llm_server import fake_llm


def _engine(url: str, **kw: object) -> LLMEngine:
    return LLMEngine(LLMSettings(url=url, **kw))


def test_is_an_engine_of_text_and_says_what_it_needs(monkeypatch) -> None:
    monkeypatch.delenv("TASTEMAKER_LLM_URL", raising=False)
    engine = LLMEngine()
    assert isinstance(engine, Engine)
    assert engine.media_types == (TEXT_PLAIN,) and not engine.reproducible
    assert engine.unavailable() == "needs TASTEMAKER_LLM_URL"
    monkeypatch.setenv("TASTEMAKER_LLM_URL", "http://127.0.0.1:1/v1")
    assert engine.unavailable() is None


def test_random_mutate_crossover_stay_valid_and_edit_template_and_theme() -> None:
    engine = LLMEngine()
    rng = np.random.default_rng(0)
    population = [engine.random(rng) for _ in range(8)]
    templates, themes = {g.data["template"] for g in population}, set()
    for _ in range(300):
        if rng.random() < 0.5:
            child = engine.mutate(population[int(rng.integers(len(population)))], rng)
        else:
            a, b = rng.choice(len(population), 2, replace=False)
            child = engine.crossover(population[a], population[b], rng)
        engine.validate(child)
        assert child.parents
        templates.add(child.data["template"])
        themes.add(child.data["theme"])
        population.append(child)
    assert len(templates) > 20 and len(themes) > 10
    assert any(" and " in t for t in themes)  # blended themes
    assert {engine.genome_features(g).shape for g in population} == {
        engine.genome_features(population[0]).shape
    }
    again = LLMEngine().random(np.random.default_rng(0))
    assert again == population[0]  # seeded: the same proposals


@pytest.mark.parametrize(
    "data",
    [
        {"template": "no placeholder", "theme": "x", "seed": 1, "temperature": 1.0},
        {"template": "about {theme}", "theme": "", "seed": 1, "temperature": 1.0},
        {"template": "about {theme}", "theme": "x", "seed": -1, "temperature": 1.0},
        {"template": "about {theme}", "theme": "x", "seed": 1, "temperature": 9},
        {"template": "about {theme}", "theme": "x", "seed": 1},
    ],
)
def test_bad_genomes_are_refused(data) -> None:
    with pytest.raises(GenomeError):
        LLMEngine().validate(Genome("llm", data))


def test_makes_text_works_through_the_endpoint() -> None:
    with fake_llm() as (url, fake):
        engine = _engine(url, model="tiny", api_key="sk-test")
        genome = engine.random(np.random.default_rng(3))
        media = engine.make(genome, 256)
        assert media.media_type == TEXT_PLAIN
        assert media.text() == fake.answer(fake.requests[0])
        sent = fake.requests[0]
        assert sent["model"] == "tiny" and sent["authorization"] == "Bearer sk-test"
        assert sent["seed"] == genome.data["seed"]
        assert sent["temperature"] == genome.data["temperature"]
        assert sent["messages"][-1]["content"] == schema.prompt(genome.data)
        fake.mode = "empty"
        assert engine.make_screened(genome, 256) is None  # an empty answer is screened out


def test_generate_works_writes_text_works(tmp_path, monkeypatch) -> None:
    with fake_llm() as (url, _fake):
        monkeypatch.setenv("TASTEMAKER_LLM_URL", url)
        records = generate_works(5, 256, 7, tmp_path, engine_name="llm")
    assert len(records) == 5
    for r in records:
        assert r.media_type == TEXT_PLAIN and r.file.endswith(".txt") and r.size == 0
        assert (tmp_path / r.file).read_text().strip()


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [
        ("garbage", "did not answer with a chat completion"),
        ("no_choices", "did not answer with a chat completion"),
        ("http_500", "answered HTTP 500"),
        ("slow", "did not answer within 0.3 s"),
    ],
)
def test_a_misbehaving_endpoint_is_one_clear_error(mode, fragment) -> None:
    with fake_llm() as (url, fake):
        fake.mode = mode
        engine = _engine(url, timeout=0.3)
        with pytest.raises(UsageError, match=fragment):
            engine.make(engine.random(np.random.default_rng(0)), 64)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_endpoint_down_is_one_line_and_writes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TASTEMAKER_LLM_URL", f"http://127.0.0.1:{_free_port()}/v1")
    out = tmp_path / "out"
    result = run_cli("generate", "--engine", "llm", "-n", "3", "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is unreachable" in lines[0], result.stderr
    assert not list(out.glob("*")) if out.exists() else True


def test_cli_generate_and_engines_with_a_live_endpoint(tmp_path, monkeypatch) -> None:
    with fake_llm() as (url, _fake):
        monkeypatch.setenv("TASTEMAKER_LLM_URL", url)
        out = tmp_path / "out"
        result = run_cli("generate", "--engine", "llm", "-n", "3", "--seed", "2", "--out", str(out))
        assert result.returncode == 0, result.stderr
        lines = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
        assert [x["media_type"] for x in lines] == [TEXT_PLAIN] * 3
        listing = run_cli("engines").stdout
    llm_line = next(line for line in listing.splitlines() if line.startswith("llm"))
    assert "text/plain" in llm_line and "ready" in llm_line
