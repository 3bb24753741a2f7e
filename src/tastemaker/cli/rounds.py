"""``tastemaker round ...``, ``tastemaker export`` and ``tastemaker verify``."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
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
        record = export_round(session, number, ctx.media, ctx.chain.deployment)
    record["exported_at"] = datetime.now(UTC).isoformat()
    try:
        write_atomic(out, (json.dumps(record, indent=1) + "\n").encode())
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from exc
    console.print(f"wrote {out}: {len(record['votes'])} signed votes, {len(record['pool'])} works")


OFFLINE_UNCHECKED = (
    ("token metadata on chain", "that the commitment to the vote set is the minted one"),
    ("stakes on chain", "each voter's minimum stake in the staking contract"),
    ("auction on chain", "the auction's winner, amount and the voters' share"),
    ("root on chain", "the posted reward root and its total"),
    ("distributor funds", "what the distributor received for the reward pool"),
    ("claims on chain", "that claims stay within the root and the funds"),
)


@app.command("verify")
def verify_command(
    record_files: list[Path] = typer.Argument(
        ..., metavar="FILE...", help="Round records; several also check they chain up."
    ),
    offline: bool = typer.Option(
        False, help="No node: check the record against itself only, and list what was not."
    ),
    rpc_url: str | None = typer.Option(
        None,
        "--rpc-url",
        help="A JSON-RPC node of the record's chain to read from, at the contracts the "
        "record names (default: this home's chain).",
    ),
    render: bool = typer.Option(
        False, "--render", help="Also re-render each winner from its recipe and check its hash."
    ),
) -> None:
    """Recompute signatures, tally, rewards, root and the round commitment from each
    record; check stakes, token, auction, root and distributor against the chain; with
    several records, check each reward epoch starts where the last ended."""
    from tastemaker.core.audit import verify_history

    records = [_read_record(path) for path in record_files]
    # The record against itself first: a malformed file fails before a node starts.
    reports = [_audit(path, record) for path, record in zip(record_files, records, strict=True)]
    history: list = []
    with contextlib.ExitStack() as stack:
        chain = None if offline else stack.enter_context(_connect_chain(records, rpc_url))
        for path, record, report in zip(record_files, records, reports, strict=True):
            if chain is None:
                for name, what in OFFLINE_UNCHECKED:
                    report.skip(name, f"offline: not checked {what}")
            else:
                _check_chain(path, record, report, chain)
        if len(records) > 1:
            history = _chain_history(records, chain)
    failed = False
    for path, record, report in zip(record_files, records, reports, strict=True):
        failed |= not _show(path, record, report, render)
    if len(records) > 1:
        try:
            checks = verify_history(records) + history
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


NO_CHAIN_ADVICE = (
    "this home has no contracts on chain {chain}: pass --rpc-url URL (a node of chain "
    "{chain}) to check the record against it, or --offline to check the record alone"
)


def _connect_chain(records: list[dict], rpc_url: str | None):  # -> ChainClient
    """This home's chain, or a read-only view of the node at ``rpc_url`` at the
    contracts the records name (imported late: web3 is slow to import)."""
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.deployment import Deployment
    from tastemaker.chain.settings import ChainSettings

    try:
        chain_ids = {int(r["domain"]["chainId"]) for r in records}
    except _SHAPE_ERRORS as exc:
        raise UsageError(f"a record names no chain id: {exc!r}") from None
    if len(chain_ids) != 1:
        raise UsageError(f"the records are of several chains: {sorted(chain_ids)}")
    chain_id = chain_ids.pop()
    if rpc_url is not None:
        contracts = records[-1].get("contracts")
        if not isinstance(contracts, dict):
            raise UsageError(
                "the record names no contracts (exported before records carried them): "
                "verify it from the deployment's home, or with --offline"
            )
        return ChainClient.reader(rpc_url, chain_id, contracts)
    settings = ChainSettings()
    if settings.rpc_url is None and (
        Deployment.load(settings.chain_dir / "deployments" / f"{chain_id}.json") is None
    ):
        # Starting an embedded node here would only make an empty chain.
        raise UsageError(NO_CHAIN_ADVICE.format(chain=chain_id))
    return ChainClient.connect(settings)


_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


def _audit(path: Path, record: dict):  # -> AuditReport
    from tastemaker.core.audit import RecordError, verify_record

    try:
        return verify_record(record)
    except RecordError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    except _SHAPE_ERRORS as exc:
        # A record of the right format whose fields have the wrong shapes.
        raise UsageError(f"{path} is not a well-formed round record: {exc!r}") from None


def _show(path: Path, record: dict, report, render: bool) -> bool:
    if render and record.get("winner"):
        from tastemaker.generate.reproduce import check_rerender

        ok, detail = check_rerender(record.get("winner_recipe"), str(record["winner"]))
        report.add("winner re-renders", ok, detail)
    console.print(_checks_table(str(path), report.checks))
    if report.ok:
        console.print(f"round {report.round} verifies")
    else:
        failed = [c.name for c in report.checks if not c.ok]
        console.print(f"round {report.round} does NOT verify: {', '.join(failed)} failed")
    if report.unchecked:
        console.print(f"not checked: {', '.join(c.name for c in report.unchecked)}")
    return report.ok


def _check_chain(path: Path, record: dict, report, chain) -> None:
    from requests.exceptions import RequestException
    from web3.exceptions import Web3Exception

    from tastemaker.chain.errors import ChainError
    from tastemaker.rounds.chain_check import check_against_chain

    if chain.chain_id != record["domain"]["chainId"]:
        raise UsageError(
            f"{path} is for chain {record['domain']['chainId']}, "
            f"but the configured node serves chain {chain.chain_id}"
        )
    try:
        check_against_chain(record, report, chain)
    except ChainError:
        raise  # unreachable node, no deployment: the CLI prints its one line
    except (RequestException, Web3Exception) as exc:
        raise ChainError(f"reading the chain at {chain.rpc_url} failed: {exc}") from None
    except _SHAPE_ERRORS as exc:
        raise UsageError(f"{path} is not a well-formed round record: {exc!r}") from None


def _chain_history(records: list[dict], chain) -> list:
    from tastemaker.core.audit import Check
    from tastemaker.rounds.chain_check import check_tokens_accounted

    if chain is None:
        return [Check("tokens on chain", True, "offline: not checked", checked=False)]
    try:
        return [check_tokens_accounted(records, chain)]
    except _SHAPE_ERRORS as exc:
        raise UsageError(f"the records name tokens that are not numbers: {exc!r}") from None


def _checks_table(title: str, checks: list) -> Table:
    table = Table("check", "result", "detail", title=title)
    for check in checks:
        if not check.checked:
            result = "[yellow]not checked[/]"
        else:
            result = "[green]ok[/]" if check.ok else "[red]FAILED[/]"
        table.add_row(check.name, result, escape(check.detail))
    return table
