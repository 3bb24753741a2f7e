"""The local backend: this machine's cores, through a process pool."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext

from tastemaker.generate.backends.base import (
    Candidate,
    Candidates,
    Job,
    make_candidate,
    stage_candidate,
)
from tastemaker.generate.engine import Engine
from tastemaker.generate.malloc import keep_freed_memory
from tastemaker.generate.registry import get_engine
from tastemaker.store.media import MediaStore

_worker_job: tuple[Job, Engine] | None = None


def _init_worker(job: Job) -> None:
    global _worker_job
    # One engine per process, so what it caches (compiled networks, palette tables)
    # serves the prescreen and the full render of each candidate.
    # The caller's own engine instance (this machine, this code: the same version).
    _worker_job = (job, get_engine(job.engine_name))


def _init_pool_worker(job: Job) -> None:
    # Only in the spawned workers: they live for one batch and render all the time.
    # In the calling process (a server, the demo) keeping freed memory would last for
    # its whole life.
    keep_freed_memory()
    _init_worker(job)


def _candidate(index: int) -> Candidate:
    """Make candidate ``index`` of the job this process was given and stage its file.

    Hashing and writing happen here, in parallel; the parent only renames the files
    of the candidates it keeps (and deletes the rest).
    """
    assert _worker_job is not None, "worker used before _init_worker"
    job, engine = _worker_job
    return stage_candidate(MediaStore(job.out), *make_candidate(job, engine, index))


def _worker_context() -> BaseContext:
    """Workers forked from a fork server that has the engines' kernels loaded.

    The fork server is a fresh, single-threaded process (as "spawn" gives), so workers
    stay independent of whatever threads the caller runs; it starts once per caller
    and serves every later batch. Where there is no fork (Windows), spawn.
    """
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload(["tastemaker.generate.warm"])
    return context


class LocalBackend:
    """Candidates made in this process (one worker) or a pool of ``workers`` processes."""

    name = "local"

    def check(self, engine: Engine) -> None:
        return None

    @contextmanager
    def candidates(self, job: Job, workers: int | None) -> Iterator[Candidates]:
        workers = workers or os.cpu_count() or 1
        if workers <= 1:
            _init_worker(job)
            yield lambda indices: map(_candidate, indices)
            return
        with ProcessPoolExecutor(
            workers, mp_context=_worker_context(), initializer=_init_pool_worker, initargs=(job,)
        ) as pool:
            yield lambda indices: pool.map(_candidate, indices, chunksize=8)
