"""The demo's summary table fits an 80-column terminal without cutting a cell."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tastemaker.demo.report import summary_table
from tastemaker.demo.run import DemoResult, WeekResult

ETH = 10**18


def _week(number: int) -> WeekResult:
    return WeekResult(
        round=number,
        winner="bafkreigp6l7hy4yrpptcjzzjubuvjyaypyu4skoqtpg3rdni6g6mo4l7aq",
        token_id=number,
        winner_approval=0.61234,
        pool_approval=0.5,
        best_approval=0.7,
        stake_winner_approval=0.6,
        stake_best_approval=0.7,
        votes_to_flip=3,
        votes=123_456,
        voters=4_000,
        refused=0,
        model_auc=0.734,
        sale_wei=123 * ETH,
        voter_pool_wei=54 * ETH // 10,
        verified=True,
        record=None,
    )


def test_the_table_is_whole_at_80_columns() -> None:
    console = Console(width=80, record=True, color_system=None)
    console.print(summary_table(DemoResult(home=Path("."), weeks=[_week(1), _week(12)])))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for whole in ("winner", "appr.", "voters", "123456", "123.0000", "5.4000", "…o4l7aq", "yes"):
        assert whole in text, whole
    assert text.count("…") == 2  # only the winners' shortened CIDs, one per row


def test_the_learning_curve_ticks_whole_rounds(tmp_path, monkeypatch) -> None:
    import matplotlib.pyplot as plt

    from tastemaker.demo import report

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    weeks = [_week(n) for n in (1, 2, 3)]
    weeks[0].model_auc = None
    report._learning_curve(DemoResult(home=tmp_path, weeks=weeks), tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000
    for axes in figures[0].axes:
        assert [t.get_text() for t in axes.get_xticklabels()] == ["1", "2", "3"]
