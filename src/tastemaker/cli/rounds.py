"""``tastemaker round ...``, ``tastemaker export`` and ``tastemaker verify``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress
from rich.table import Table

from tastemaker.cli import app
from tastemaker.errors import UsageError

# The service pulls in web3 and SQLAlchemy (a second of start-up): commands import it
# when they run, so `tastemaker --help` and `generate` stay quick.

round_app = typer.Typer(help="Run the weekly loop: open, close and settle rounds.")
app.add_typer(round_app, name="round")
console = Console()


@round_app.command("open")
def open_command() -> None:
    """Learn from past votes, generate and curate candidates, open voting."""
    from tastemaker.rounds.bootstrap import round_context
    from tastemaker.rounds.service import open_round
    from tastemaker.rounds.settings import RoundSettings

    settings = RoundSettings()
    with Progress("{task.description}", BarColumn(), MofNCompleteColumn()) as progress:
        task = progress.add_task("generating candidates", total=settings.candidates)
        with round_context(
            round_settings=settings, on_progress=lambda n: progress.advance(task, n)
        ) as ctx:
            number = open_round(ctx)
    console.print(f"round {number} is open for voting")


@round_app.command("close")
def close_command(
    number: int = typer.Argument(..., help="Round number."),
    force: bool = typer.Option(False, "--force", help="Close before the voting window ends."),
) -> None:
    """Tally the votes, mint the winner and start its auction."""
    from tastemaker.rounds.bootstrap import round_context
    from tastemaker.rounds.service import close_round

    with round_context() as ctx:
        state = close_round(ctx, number, force=force)
    console.print(f"round {number}: {state}")


@round_app.command("settle")
def settle_command(number: int = typer.Argument(..., help="Round number.")) -> None:
    """Settle the auction, split the voters' pool and post the reward root."""
    from tastemaker.rounds.bootstrap import round_context
    from tastemaker.rounds.service import settle_round

    with round_context() as ctx:
        state = settle_round(ctx, number)
    console.print(f"round {number}: {state}")


@round_app.command("status")
def status_command() -> None:
    """Every round and where it stands."""
    from sqlalchemy import select

    from tastemaker.rounds.bootstrap import round_context
    from tastemaker.store.tables import Round

    with round_context() as ctx, ctx.db.unit_of_work() as session:
        table = Table("round", "state", "opens", "closes", "winner", "token")
        for r in session.scalars(select(Round).order_by(Round.number)):
            table.add_row(
                str(r.number),
                r.state,
                r.opens_at.strftime("%Y-%m-%d %H:%M"),
                r.closes_at.strftime("%Y-%m-%d %H:%M"),
                "0x" + r.winner.hex()[:12] + "…" if r.winner else "-",
                str(r.token_id or "-"),
            )
    console.print(table)


@app.command("export")
def export_command(
    number: int = typer.Option(..., "--round", help="Round number."),
    out: Path = typer.Option(..., help="JSON file to write."),
) -> None:
    """Write the public record of a closed round (what `tastemaker verify` checks)."""
    from tastemaker.rounds.bootstrap import round_context
    from tastemaker.rounds.record import export_round
    from tastemaker.store.media import write_atomic

    with round_context() as ctx, ctx.db.unit_of_work() as session:
        record = export_round(session, number)
    record["exported_at"] = datetime.now(UTC).isoformat()
    try:
        write_atomic(out, (json.dumps(record, indent=1) + "\n").encode())
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from exc
    console.print(f"wrote {out}: {len(record['votes'])} signed votes, {len(record['pool'])} works")


@app.command("verify")
def verify_command(
    record_files: list[Path] = typer.Argument(
        ..., metavar="FILE...", help="Round records; several also check they chain up."
    ),
    offline: bool = typer.Option(False, help="Skip comparing the root with the chain."),
    render: bool = typer.Option(
        False, "--render", help="Also re-render each winner from its recipe and check its hash."
    ),
) -> None:
    """Recompute signatures, tally, rewards and root from each record; compare with the
    chain; with several records, check each reward epoch starts where the last ended."""
    from tastemaker.core.audit import verify_history

    records = [_read_record(path) for path in record_files]
    failed = False
    for path, record in zip(record_files, records, strict=True):
        failed |= not _verify_one(path, record, offline, render)
    if len(records) > 1:
        try:
            checks = verify_history(records)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise UsageError(f"the records do not chain up as round records: {exc!r}") from None
        console.print(_checks_table("across records", checks))
        failed |= not all(check.ok for check in checks)
    if failed:
        raise typer.Exit(1)


def _read_record(path: Path) -> dict:
    from tastemaker.cli.safe_json import load_json_file

    record = load_json_file(path)  # depth, size, UTF-8 and number checks: one line each
    if not isinstance(record, dict):
        raise UsageError(f"{path} is not a round record (a JSON object)")
    return record


def _verify_one(path: Path, record: dict, offline: bool, render: bool = False) -> bool:
    from tastemaker.core.audit import RecordError, verify_record

    try:
        report = verify_record(record)
    except RecordError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        # A record of the right format whose fields have the wrong shapes.
        raise UsageError(f"{path} is not a well-formed round record: {exc!r}") from None
    rewards = record.get("rewards")
    if rewards is not None and not offline:
        report.add(*_chain_root_check(record, rewards))
    if render and record.get("winner"):
        from tastemaker.generate.reproduce import check_rerender

        ok, detail = check_rerender(record.get("winner_recipe"), str(record["winner"]))
        report.add("winner re-renders", ok, detail)
    console.print(_checks_table(str(path), report.checks))
    if report.ok:
        console.print(f"round {report.round} verifies")
    return report.ok


def _checks_table(title: str, checks: list) -> Table:
    table = Table("check", "result", "detail", title=title)
    for check in checks:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[red]FAILED[/]", check.detail)
    return table


def _chain_root_check(record: dict, rewards: dict) -> tuple[str, bool, str]:
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings

    with ChainClient.connect(ChainSettings()) as chain:
        if chain.chain_id != record["domain"]["chainId"]:
            raise UsageError(
                f"the record is for chain {record['domain']['chainId']}, "
                f"but the configured node serves chain {chain.chain_id}"
            )
        distributor = chain.contract("distributor")
        posted = bytes(distributor.functions.roots(int(rewards["epoch"])).call())
    root = "0x" + posted.hex()
    return "root on chain", root == rewards["root"], f"epoch {rewards['epoch']}: {root}"
