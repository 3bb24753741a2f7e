"""Works: metadata, lineage, the media (image or text), and the print-size render."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from sqlalchemy import func, select

from tastemaker.core.media import IMAGE_PNG, is_text
from tastemaker.generate.genome import Genome
from tastemaker.store.tables import GenomeRow, Work
from tastemaker.web import queries
from tastemaker.web.deps import Ctx, Db, HashPath, Paging, page, parse_hash
from tastemaker.web.prints import print_path, render_print
from tastemaker.web.problems import Problem

router = APIRouter(prefix="/works", tags=["works"])
IMAGE = {200: {"content": {"image/png": {}}, "description": "A PNG image."}}
MEDIA = {
    200: {
        "content": {t: {} for t in ("image/png", "text/plain", "text/markdown")},
        "description": "The work's bytes, as its media type.",
    }
}
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
    if work.media_type != IMAGE_PNG:
        raise Problem(404, "not_an_image", f"{content_hash} is {work.media_type}: see its /media")
    return _media_file(ctx, work, content_hash)


@router.get("/{content_hash}/media", summary="The work's bytes (image or text)", responses=MEDIA)
def media(ctx: Ctx, session: Db, content_hash: HashPath) -> FileResponse:
    return _media_file(ctx, _work(session, content_hash), content_hash)


def _media_file(ctx: Ctx, work: Work, content_hash: str) -> FileResponse:
    path = ctx.rounds.media.media_path(work.cid, work.media_type)
    if not path.exists():
        raise Problem(404, "media_missing", f"the media of {content_hash} is not in this store")
    kind = work.media_type + ("; charset=utf-8" if is_text(work.media_type) else "")
    return FileResponse(path, media_type=kind, headers=IMMUTABLE)


@router.get("/{content_hash}/print", summary="A print-size render (cached)", responses=IMAGE)
def print_render(ctx: Ctx, session: Db, content_hash: HashPath) -> FileResponse:
    work = _work(session, content_hash)
    if work.media_type != IMAGE_PNG:
        raise Problem(404, "not_an_image", f"{content_hash} is {work.media_type}: no print")
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
