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
        record = export_round(session, number, ctx.chain.deployment.addresses["distributor"])
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
    rpc_url: str | None = typer.Option(
        None,
        "--rpc-url",
        help="A JSON-RPC node of the record's chain to read the posted root from "
        "(default: this home's chain).",
    ),
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
        failed |= not _verify_one(path, record, offline, render, rpc_url)
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


def _verify_one(
    path: Path, record: dict, offline: bool, render: bool = False, rpc_url: str | None = None
) -> bool:
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
        report.add(*_chain_root_check(record, rewards, rpc_url))
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


NO_CHAIN_ADVICE = (
    "to compare its reward root with the chain, pass --rpc-url URL (a node of chain {chain}), "
    "or skip that check with --offline"
)
ROOTS_ABI = [
    {
        "name": "roots",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "epoch", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bytes32"}],
    }
]


def _chain_root_check(
    record: dict, rewards: dict, rpc_url: str | None = None
) -> tuple[str, bool, str]:
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.deployment import Deployment
    from tastemaker.chain.settings import ChainSettings

    chain_id = record["domain"]["chainId"]
    settings = ChainSettings()
    local = Deployment.load(settings.chain_dir / "deployments" / f"{chain_id}.json")
    if rpc_url is None and settings.rpc_url is None:
        # The embedded chain: a home without this chain's contracts cannot answer, and
        # starting a node for it would only make an empty chain.
        if local is None:
            raise UsageError(
                f"this home has no contracts on chain {chain_id}: "
                + NO_CHAIN_ADVICE.format(chain=chain_id)
            )
        with ChainClient.connect(settings) as chain:
            distributor = chain.contract("distributor")
            posted = bytes(distributor.functions.roots(int(rewards["epoch"])).call())
    else:
        posted = _root_at(rpc_url or str(settings.rpc_url), record, rewards, local)
    root = "0x" + posted.hex()
    return "root on chain", root == rewards["root"], f"epoch {rewards['epoch']}: {root}"


def _root_at(url: str, record: dict, rewards: dict, local) -> bytes:  # type: ignore[no-untyped-def]
    """The root posted for the record's epoch, read from the node at ``url``."""
    from web3 import Web3

    chain_id = record["domain"]["chainId"]
    address = rewards.get("distributor") or (local.addresses["distributor"] if local else None)
    if address is None or not Web3.is_address(address):
        raise UsageError(
            "the record names no distributor contract (exported before records carried it) "
            f"and this home has no contracts on chain {chain_id}: verify it with --offline"
        )
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    try:
        served = w3.eth.chain_id
        if served != chain_id:
            raise UsageError(f"the record is for chain {chain_id}, but {url} serves {served}")
        contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=ROOTS_ABI)
        return bytes(contract.functions.roots(int(rewards["epoch"])).call())
    except UsageError:
        raise
    except Exception as exc:  # web3 raises many types for an unreachable or odd node
        raise UsageError(f"cannot read the root from {url}: {type(exc).__name__}: {exc}") from None
