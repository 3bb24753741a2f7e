"""A round of diffusion works end to end: generate on a tiny random pipeline, vote,
close (mint the winner on the embedded chain), export, verify and re-render."""

from __future__ import annotations

from pathlib import Path

import pytest

from tastemaker.core.audit import verify_record
from tastemaker.generate.registry import get_engine
from tastemaker.generate.reproduce import check_rerender
from tastemaker.rounds import states
from tastemaker.rounds.record import export_round
from tastemaker.rounds.service import close_round, open_round
from tastemaker.store.tables import Round
from tests.generate.test_diffusion import needs_diffusers
from tests.rounds.scenario import T0, after_voting, build, vote_on_pool

pytestmark = pytest.mark.slow


def test_a_diffusion_round_mints_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_diffusers()
    from tastemaker.generate.diffusion.tiny import build_tiny_pipeline

    weights = build_tiny_pipeline(tmp_path / "tiny-sd")
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_WEIGHTS", str(weights))
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_DEVICE", "cpu")
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_THREADS", "1")
    monkeypatch.setenv("TASTEMAKER_DIFFUSION_STEPS", "[2, 2]")
    get_engine.cache_clear()
    scenario = build(tmp_path / "home")
    try:
        ctx = scenario.ctx
        ctx.engine_name = "diffusion"
        number = open_round(ctx, now=T0)
        vote_on_pool(scenario, number, now=T0)
        assert close_round(ctx, number, now=after_voting()) == states.AUCTION
        with ctx.db.unit_of_work() as session:
            round_ = session.get(Round, number)
            assert scenario.chain.token_of_content(round_.winner) == round_.token_id
            record = export_round(session, number)
        report = verify_record(record)
        assert report.ok, report.checks
        recipe = record["winner_recipe"]
        assert recipe["engine"] == "diffusion"
        assert recipe["genome"]["weights"] == get_engine("diffusion").weights()
        ok, detail = check_rerender(recipe, str(record["winner"]))
        assert ok, detail
    finally:
        scenario.ctx.db.dispose()
        scenario.chain.close()
        get_engine.cache_clear()
