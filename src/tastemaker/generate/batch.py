"""Generate many works reproducibly: propose genomes from one seeded RNG, make and
screen them on a backend (this machine's cores, or a Ray cluster), and write
content-addressed media plus a manifest.

Candidate number ``i`` is proposed from its own RNG stream, seeded by
``(seed, i)``, and rendering is a pure function of the genome, so the same seed
gives the same works however the candidates are spread over processes or machines;
this process keeps candidates in index order and writes the manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tastemaker.core.media import IMAGE_PNG, is_text
from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.backends import Backend, Job, LocalBackend, propose
from tastemaker.generate.engine import MAX_SIZE, MIN_SIZE
from tastemaker.generate.genome import Genome
from tastemaker.generate.registry import get_engine
from tastemaker.store.media import MediaStore, write_atomic

__all__ = ["MANIFEST", "WorkRecord", "generate_works", "propose"]

MANIFEST = "manifest.jsonl"
MAX_ATTEMPTS_PER_WORK = 50


@dataclass(frozen=True)
class WorkRecord:
    """One line of ``manifest.jsonl``."""

    id: str
    cid: str
    sha256: str
    file: str
    engine: str
    engine_version: str
    size: int
    genome: dict[str, Any]
    parents: list[str]
    media_type: str = IMAGE_PNG  # manifests written before works were media are PNGs

    def to_genome(self) -> Genome:
        return Genome(self.engine, self.genome, tuple(self.parents))


def check_count(count: int) -> None:
    if count <= 0:
        raise UsageError(f"count must be positive, got {count}")


def check_size(size: int) -> None:
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UsageError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")


def ensure_writable(folder: Path) -> None:
    """Fail early, before any work is done, if ``folder`` cannot hold output."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".tastemaker-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to {folder}: {exc.strerror or exc}") from exc


def load_genomes(path: Path) -> list[Genome]:
    """Genomes from a manifest (JSON lines with ``genome``), a JSON list, or one genome."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    if not text.strip():
        raise GenomeError(f"{path} holds no genomes")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as whole_error:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:  # not JSON lines either: report the error of the whole file
            raise _malformed(path, whole_error) from whole_error
        return [_genome_from_json(_parse_line(line, path, n)) for n, line in lines]
    if isinstance(value, list):
        return [_genome_from_json(item) for item in value]
    return [_genome_from_json(value)]


def _malformed(path: Path, error: json.JSONDecodeError, line: int | None = None) -> GenomeError:
    return GenomeError(
        f"malformed genome JSON in {path}: {error.msg} at line {line or error.lineno}"
    )


def _parse_line(line: str, path: Path, number: int) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise _malformed(path, exc, number) from exc


def _genome_from_json(value: object) -> Genome:
    """A genome object, or a manifest line (which carries the genome's data inline)."""
    if isinstance(value, dict) and "genome" in value and "engine" in value:
        value = {
            "engine": value["engine"],
            "data": value["genome"],
            "parents": value.get("parents", []),
        }
    return Genome.from_json(value)


def generate_works(
    count: int,
    size: int,
    seed: int,
    out: Path,
    engine_name: str = "cppn",
    parents: Sequence[Genome] = (),
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    manifest: Path | None = None,
    backend: Backend | None = None,
) -> list[WorkRecord]:
    """Generate ``count`` screened works into ``out`` on ``backend`` (default: this
    machine's cores), write the manifest last (to ``out/manifest.jsonl`` unless
    ``manifest`` names another file)."""
    check_count(count)
    check_size(size)
    engine = get_engine(engine_name)
    for parent in parents:
        engine.validate(parent)
    backend = backend or LocalBackend()
    backend.check(engine)
    capacity = getattr(engine, "capacity", None)  # an engine drawing from a fixed set
    if capacity is not None:
        count = min(count, capacity())
    ensure_writable(out)
    workers = workers or os.cpu_count() or 1
    if count < 32 or not getattr(engine, "processes", True):
        # Starting processes costs more than it saves; an engine holding a model
        # (``processes = False``) loads it once and uses every core itself.
        workers = 1
    store = MediaStore(out)
    job = Job(engine_name, engine.version, seed, tuple(parents), size, out)
    records: list[WorkRecord] = []
    seen_genomes: set[str] = set()
    seen_cids: set[str] = set()
    next_index = 0
    try:
        with backend.candidates(job, workers) as candidates:
            while len(records) < count:
                if next_index > MAX_ATTEMPTS_PER_WORK * count:
                    raise UsageError(
                        f"engine {engine_name!r} made only {len(records)} works passing the "
                        f"quality screen in {next_index} attempts"
                    )
                # Over-ask a little: about a third of candidates fail the screen.
                batch = range(next_index, next_index + max(32, (count - len(records)) * 3 // 2))
                next_index = batch.stop
                for genome, staged, media_type in candidates(batch):
                    if staged is None:
                        continue
                    if (
                        len(records) >= count
                        or genome.id in seen_genomes
                        or staged.cid in seen_cids
                    ):
                        store.discard(staged)
                        continue
                    stored = store.commit(staged)
                    seen_genomes.add(genome.id)
                    seen_cids.add(stored.cid)
                    records.append(
                        WorkRecord(
                            id=genome.id,
                            cid=stored.cid,
                            sha256=stored.sha256,
                            file=stored.path.name,
                            engine=engine.name,
                            engine_version=engine.version,
                            size=0 if is_text(media_type) else size,
                            genome=genome.data,
                            parents=list(genome.parents),
                            media_type=media_type,
                        )
                    )
                    if on_progress:
                        on_progress(1)
    finally:
        store.discard_all_staged()  # candidates in flight when something failed
    write_manifest(manifest or out / MANIFEST, records)
    return records


def write_manifest(path: Path, records: Sequence[WorkRecord]) -> None:
    # vars, not asdict: asdict deep-copies every genome, a sizeable cost at 70k works.
    lines = (json.dumps(vars(r), sort_keys=True, separators=(",", ":")) for r in records)
    write_atomic(path, ("\n".join(lines) + "\n").encode())


def read_manifest(path: Path) -> list[WorkRecord]:
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            records.append(WorkRecord(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise GenomeError(f"{path}:{number} is not a valid manifest line") from exc
    return records
