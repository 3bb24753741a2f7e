"""Works: metadata, lineage, the image, and the print-size render."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from sqlalchemy import func, select

from tastemaker.generate.genome import Genome
from tastemaker.store.tables import GenomeRow, Work
from tastemaker.web import queries
from tastemaker.web.deps import Ctx, Db, HashPath, Paging, page, parse_hash
from tastemaker.web.prints import print_path, render_print
from tastemaker.web.problems import Problem

router = APIRouter(prefix="/works", tags=["works"])
IMAGE = {200: {"content": {"image/png": {}}, "description": "A PNG image."}}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def _work(session: Db, content_hash: str) -> Work:
    work = session.get(Work, parse_hash(content_hash))
    if work is None:
        raise Problem(404, "unknown_work", f"there is no work {content_hash}")
    return work


@router.get("", summary="Every work, newest round first")
def list_works(session: Db, paging: Paging) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(Work)) or 0
    works = session.scalars(
        select(Work)
        .order_by(Work.round_created.desc(), Work.content_hash)
        .offset(paging.offset)
        .limit(paging.limit)
    ).all()
    return page([queries.work_json(w) for w in works], paging, total)


@router.get("/{content_hash}", summary="One work with its genome's parents")
def get_work(session: Db, content_hash: HashPath) -> dict[str, Any]:
    work = _work(session, content_hash)
    return queries.work_json(work) | {
        "lineage": queries.lineage(session, work),
        "print_url": f"/api/works/{queries.hex32(work.content_hash)}/print",
    }


@router.get("/{content_hash}/image", summary="The work's image", responses=IMAGE)
def image(ctx: Ctx, session: Db, content_hash: HashPath) -> FileResponse:
    work = _work(session, content_hash)
    path = ctx.rounds.media.path_for(work.cid)
    if not path.exists():
        raise Problem(404, "media_missing", f"the image of {content_hash} is not in this store")
    return FileResponse(path, media_type="image/png", headers=IMMUTABLE)


@router.get("/{content_hash}/print", summary="A print-size render (cached)", responses=IMAGE)
def print_render(ctx: Ctx, session: Db, content_hash: HashPath) -> FileResponse:
    work = _work(session, content_hash)
    row = session.get(GenomeRow, work.genome_id)
    if row is None:
        raise Problem(404, "unknown_genome", f"the genome of {content_hash} is not stored")
    genome = Genome(row.engine, row.data, tuple(row.parents))
    size = ctx.settings.print_size
    version = row.engine_version  # the version that made the work renders its print
    path = print_path(ctx.rounds.media.root, work.content_hash, version, size)
    render_print(genome, version, path, size)
    name = f"tastemaker-{work.content_hash.hex()[:12]}-{size}px.png"
    return FileResponse(path, media_type="image/png", headers=IMMUTABLE, filename=name)
