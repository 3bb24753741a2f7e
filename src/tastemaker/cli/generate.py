"""Commands that make and show works: generate, engines, render, contact-sheet."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from tastemaker.cli import app
from tastemaker.errors import UsageError
from tastemaker.generate.backends import get_backend
from tastemaker.generate.batch import (
    WorkRecord,
    check_count,
    check_size,
    ensure_writable,
    generate_works,
    load_genomes,
    read_manifest,
)
from tastemaker.generate.contact_sheet import contact_sheet as make_contact_sheet
from tastemaker.generate.registry import describe_engines, get_engine
from tastemaker.settings import get_settings
from tastemaker.store.media import write_atomic


@app.command()
def generate(
    count: int | None = typer.Option(None, "--count", "-n", help="How many works to make."),
    size: int = typer.Option(256, help="Image side in pixels (1-8192); text engines ignore it."),
    seed: int = typer.Option(0, help="Random seed: the same seed gives the same works."),
    out: Path = typer.Option(..., help="Folder for the works and manifest.jsonl."),
    parents: Path | None = typer.Option(
        None, help="Genomes to breed from: a manifest.jsonl, a JSON list, or one genome."
    ),
    engine: str | None = typer.Option(None, help="Engine name (default: the setting)."),
    workers: int | None = typer.Option(
        None,
        help="Processes to render with (default: cores; with --backend ray: the CPUs of "
        "a Ray started here).",
    ),
    backend: str | None = typer.Option(
        None,
        help="Where to render: local (this machine's cores) or ray (a Ray cluster); "
        "default: the generate_backend setting (local).",
    ),
    address: str | None = typer.Option(
        None,
        help="With --backend ray: the cluster's address (host:port or ray://host:port; "
        "default: the ray_address setting, RAY_ADDRESS, else a Ray started here).",
    ),
    source: Path | None = typer.Option(
        None,
        "--from",
        help="With --engine submissions: a folder of images, or a .csv/.jsonl of texts "
        "(item_id,text), to import as works.",
    ),
) -> None:
    """Generate COUNT screened works with their genomes and a manifest (or, with
    --engine submissions --from PATH, import works made elsewhere)."""
    settings = get_settings()
    engine_name = engine or settings.engine
    # Bad arguments fail before the progress bar appears.
    check_size(size)
    engine_ = get_engine(engine_name)
    backend_name = backend or settings.generate_backend
    if address is not None and backend_name != "ray":
        raise UsageError("--address names a Ray cluster: use it with --backend ray")
    backend_ = get_backend(backend_name, address or settings.ray_address, workers)
    if engine_name == "submissions" and source is not None:
        from tastemaker.generate.submissions import import_submissions

        records = import_submissions(source, out)
        typer.echo(f"imported {len(records)} works and manifest.jsonl into {out}")
        return
    if source is not None:
        raise UsageError("--from imports works: use it with --engine submissions")
    if count is None:
        raise UsageError("--count is required (or import works with --engine submissions --from)")
    check_count(count)
    parent_genomes = load_genomes(parents) if parents else []
    backend_.check(engine_)  # Ray installed, the cluster reachable: before the progress bar
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as progress:
        task = progress.add_task(f"generating with {engine_name}", total=count)
        records = generate_works(
            count,
            size,
            seed,
            out,
            engine_name=engine_name,
            parents=parent_genomes,
            workers=workers,
            on_progress=lambda n: progress.advance(task, n),
            backend=backend_,
        )
    typer.echo(f"{len(records)} works and manifest.jsonl in {out}")


@app.command()
def engines() -> None:
    """List the engines: name, version, media types, and whether each can run here."""
    rows = [
        (i.name, i.version, ", ".join(i.media_types) or "-", i.unavailable or "ready")
        for i in describe_engines()
    ]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[3]
        )


@app.command()
def render(
    genome_file: Path = typer.Argument(
        ..., metavar="GENOME.json", help="A genome JSON file, or a manifest.jsonl with --id."
    ),
    size: int = typer.Option(2048, help="Image side in pixels (1-8192)."),
    out: Path = typer.Option(..., help="PNG file to write."),
    work_id: str | None = typer.Option(
        None,
        "--id",
        help="In a manifest: the work to render (a prefix of its genome id, "
        "sha256 or CID); renders with the engine version that made it.",
    ),
    engine_version: str | None = typer.Option(
        None,
        help="Engine version to render with (default: the current one, or with --id "
        "the manifest line's).",
    ),
) -> None:
    """Render one genome, for example at print size."""
    check_size(size)
    if work_id is not None:
        record = _manifest_line(genome_file, work_id)
        genome, engine_version = record.to_genome(), engine_version or record.engine_version
    else:
        if genome_file.suffix.lower() == ".json":
            from tastemaker.cli.safe_json import load_json_file

            try:  # depth, size and encoding checked before the engine sees it
                load_json_file(genome_file)
            except UsageError as exc:
                raise UsageError(f"malformed genome JSON: {exc}") from None
        genomes = load_genomes(genome_file)
        if len(genomes) != 1:
            raise UsageError(
                f"{genome_file} holds {len(genomes)} genomes; render takes one (or pick one "
                "from a manifest with --id)"
            )
        genome = genomes[0]
    engine = get_engine(genome.engine, engine_version)
    ensure_writable(out.parent if str(out.parent) else Path("."))
    media = engine.make(genome, size)
    write_atomic(out, media.data)
    shape = f"{size}x{size}" if not media.is_text else f"{len(media.data):,} bytes"
    typer.echo(f"wrote {out} ({shape} {media.media_type}, {engine.name} {engine.version})")


@app.command()
def genome(
    manifest: Path = typer.Argument(..., metavar="MANIFEST.jsonl", help="A generate manifest."),
    work_id: str = typer.Option(
        ..., "--id", help="The work: a prefix of its genome id, sha256 or CID."
    ),
) -> None:
    """Print one work's genome as JSON (`tastemaker genome M --id X > g.json`; `render
    g.json` renders it, as does `render M --id X`)."""
    import json

    record = _manifest_line(manifest, work_id)
    typer.echo(json.dumps(record.to_genome().to_json(), indent=1))


def _manifest_line(path: Path, work_id: str) -> WorkRecord:
    if len(work_id) < 6:
        raise UsageError("--id needs at least 6 characters of a genome id, sha256 or CID")
    try:
        records = read_manifest(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    found = [r for r in records if any(v.startswith(work_id) for v in (r.id, r.sha256, r.cid))]
    if len(found) != 1:
        what = "no work" if not found else f"{len(found)} works"
        raise UsageError(f"{what} in {path} match --id {work_id}")
    return found[0]


@app.command("contact-sheet")
def contact_sheet(
    folder: Path = typer.Argument(..., help="A folder of generated works."),
    out: Path = typer.Option(..., help="PNG file to write."),
    tile: int = typer.Option(192, min=16, max=1024, help="Side of each tile in pixels."),
) -> None:
    """A grid of up to 64 works from FOLDER, for people to look at."""
    tiles = make_contact_sheet(folder, out, tile=tile)
    typer.echo(f"wrote {out} ({tiles} works)")
