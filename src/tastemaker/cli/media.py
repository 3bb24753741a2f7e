"""``tastemaker media ...``: pin minted works' metadata and media; say where they are."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from tastemaker.cli import app

media_app = typer.Typer(help="Minted works' content on IPFS: pin it, say where it is pinned.")
app.add_typer(media_app, name="media")
console = Console()

NO_PINNER = (
    "no pinner configured: set TASTEMAKER_IPFS_KUBO_URL (a kubo node's RPC API) and/or "
    "TASTEMAKER_IPFS_PINNING_URL with TASTEMAKER_IPFS_PINNING_TOKEN (a Pinning Service API)"
)


def _show(content, results) -> None:  # type: ignore[no-untyped-def]
    pinners = list(results)
    table = Table("token", "round", "kind", "cid", *pinners, box=None)
    for i, item in enumerate(content):
        cells = [results[p][i] for p in pinners]
        table.add_row(str(item.token_id), str(item.round), item.kind, item.cid, *cells)
    console.print(table)


def _run(pin: bool) -> None:
    from tastemaker.rounds.bootstrap import round_context
    from tastemaker.rounds.pins import minted_content, pin_all, statuses
    from tastemaker.store.pinning import PinError, pinners

    configured = pinners()
    with round_context() as ctx:
        content = minted_content(ctx)
    if not content:
        console.print("no minted works yet: nothing to pin")
        return
    console.print(f"{len(content)} objects of {len(content) // 2} minted works")
    if not configured:
        console.print(NO_PINNER)
        console.print("served by this site's gateway at /ipfs/<cid> (`tastemaker serve`)")
        _show(content, {})
        return
    results: dict[str, list[str]] = {}
    failed = False
    for pinner in configured:
        try:
            done = pin_all(content, pinner) if pin else statuses(content, pinner)
            results[pinner.where] = [s.status for s in done]
        except PinError as exc:
            failed = True
            console.print(f"[red]{exc}[/]", highlight=False)
            results[pinner.where] = ["unreachable"] * len(content)
    _show(content, results)
    if failed:
        raise typer.Exit(2)


@media_app.command("status")
def status() -> None:
    """Say, for each minted work's metadata and media, what is pinned where."""
    _run(pin=False)


@media_app.command("pin")
def pin() -> None:
    """Pin every minted work's metadata and media to the configured pinners."""
    _run(pin=True)
