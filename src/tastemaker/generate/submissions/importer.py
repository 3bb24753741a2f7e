"""``tastemaker generate --engine submissions --from PATH --out DIR``: store checked
submissions as works plus a manifest, like any engine's output."""

from __future__ import annotations

from pathlib import Path

from tastemaker.generate.batch import MANIFEST, WorkRecord, ensure_writable, write_manifest
from tastemaker.generate.submissions.engine import SubmissionsEngine, genome_for
from tastemaker.generate.submissions.read import read_submissions
from tastemaker.store.media import MediaStore, StagedMedia


def import_submissions(source: Path, out: Path) -> list[WorkRecord]:
    """Import every work in ``source`` into ``out``; all of them or, on any error, none."""
    items = read_submissions(source)  # every file checked before anything is written
    ensure_writable(out)
    engine = SubmissionsEngine()
    store = MediaStore(out)
    staged: list[StagedMedia] = []
    try:
        for item in items:
            staged.append(store.stage(item.media.data, item.media.extension))
    except BaseException:
        for s in staged:
            store.discard(s)
        raise
    records = []
    for item, s in zip(items, staged, strict=True):
        stored = store.commit(s)
        genome = genome_for(item, stored.sha256)
        records.append(
            WorkRecord(
                id=genome.id,
                cid=stored.cid,
                sha256=stored.sha256,
                file=stored.path.name,
                engine=engine.name,
                engine_version=engine.version,
                size=0 if item.media.is_text else _side(item.media.data),
                genome=genome.data,
                parents=[],
                media_type=item.media.media_type,
            )
        )
    write_manifest(out / MANIFEST, records)
    return records


def _side(png: bytes) -> int:
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return max(width, height)  # from the IHDR chunk our encoder writes first
