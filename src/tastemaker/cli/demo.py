"""``tastemaker demo``: the whole weekly loop with a simulated community."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from tastemaker.cli import app
from tastemaker.errors import UsageError
from tastemaker.settings import get_settings

console = Console()


@app.command()
def demo(
    weeks: int = typer.Option(4, min=1, max=52, help="Weekly rounds to run."),
    members: int = typer.Option(50, min=2, max=2000, help="Simulated members."),
    seed: int = typer.Option(7, help="Seed of the simulated community."),
    curator: str = typer.Option("taste", help="Curation policy: taste or random."),
    engine: str = typer.Option(
        "cppn", help="cppn (images, hidden tastes) or submissions (imported jokes, --from)."
    ),
    source: Path | None = typer.Option(
        None, "--from", help="submissions: a CSV/JSONL of jokes (item_id,text), e.g. Jester's."
    ),
    ratings: Path | None = typer.Option(
        None, help="submissions: Jester ratings the members replay (default: beside --from)."
    ),
) -> None:
    """Run W weeks: members stake, sign and cast votes, bidders bid, rounds close,
    auctions settle, members claim; then write an HTML report.

    With --engine submissions --from jokes.csv the works are the imported jokes and each
    member replays a real Jester rater (decision 0064)."""
    from tastemaker.demo.jester_members import ratings_beside
    from tastemaker.demo.report import summary_table, write_report
    from tastemaker.demo.run import JokesSource, run_demo
    from tastemaker.rounds.bootstrap import make_curator

    jokes = None
    if engine == "submissions":
        if source is None:
            raise UsageError("--engine submissions needs --from PATH (a CSV or JSONL of jokes)")
        ratings = ratings or ratings_beside(source)
        if not ratings.is_file():
            raise UsageError(
                f"the jokes demo's members replay Jester ratings: {ratings} is not a file "
                "(give --ratings PATH)"
            )
        jokes = JokesSource(source, ratings)
    elif engine != "cppn":
        raise UsageError(f"the demo runs --engine cppn or submissions, not {engine!r}")
    elif source is not None or ratings is not None:
        raise UsageError("--from and --ratings need --engine submissions")

    settings = get_settings()
    if (settings.home / "tastemaker.db").exists():
        raise UsageError(
            f"{settings.home} already holds a deployment: point TASTEMAKER_HOME at an empty "
            "folder for the demo"
        )
    policy = make_curator(curator, settings)
    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        weeks_task = progress.add_task("weeks", total=weeks)
        works_task = progress.add_task("candidates", total=None, visible=False)

        def say(message: str) -> None:
            progress.console.print(message)
            if message.startswith("week") and "closing" in message:
                progress.advance(weeks_task)

        def generated(n: int) -> None:
            task = progress.tasks[works_task]
            if task.completed >= (task.total or 0):
                progress.reset(works_task, total=400, visible=True)
            progress.advance(works_task, n)

        result = run_demo(
            settings.home, weeks, members, policy, seed=seed, say=say,
            on_progress=None if jokes else generated,  # drawing 70 jokes needs no bar
            jokes=jokes,
        )  # fmt: skip
    page = write_report(result, settings.home / "report")
    console.print(summary_table(result))
    unverified = [w.round for w in result.weeks if not w.verified]
    mismatched = [a for a, v in result.rewards.items() if result.claimed.get(a, 0) != v]
    console.print(f"report: {page}")
    console.print(f"public records: {settings.home / 'records'}")
    if unverified or mismatched:
        console.print(f"[red]unverified rounds {unverified}; claims off for {mismatched}[/]")
        raise typer.Exit(1)
    console.print("every round verifies and every claim equals its reward to the wei")
