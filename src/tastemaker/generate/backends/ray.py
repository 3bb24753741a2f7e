"""The Ray backend: candidates made by tasks on a Ray cluster (``pip install
'tastemaker[ray]'``), for communities whose weekly batch outgrows one machine.

Each task proposes and makes a chunk of consecutive candidates with the same engine
code and version as the local backend and returns the media bytes; this process keeps
the chunks in index order and stages their files itself, so the works, files and
manifest are byte for byte those of the local backend, however the cluster spreads
the tasks. Every node needs tastemaker (same version) and its engines' dependencies
installed; the caller's ``TASTEMAKER_*`` settings travel with the tasks.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from tastemaker.core.media import Media
from tastemaker.errors import TastemakerError, UsageError
from tastemaker.generate.backends.base import (
    Candidate,
    Candidates,
    Job,
    make_candidate,
    stage_candidate,
)
from tastemaker.generate.engine import Engine
from tastemaker.generate.genome import Genome
from tastemaker.generate.malloc import keep_freed_memory
from tastemaker.generate.registry import get_engine
from tastemaker.store.media import MediaStore

CHUNK = 16  # candidates per task: ~50 ms of cppn rendering at 256 px, well over Ray's overhead
TASKS_PER_CPU = 2  # chunks in flight per cluster CPU: keeps every CPU busy, memory bounded
CONNECT_TIMEOUT_S = 5.0
# Addresses ray.init resolves itself, without a host to probe.
_NO_HOST = {"auto", "local"}


class BackendError(TastemakerError):
    """The cluster failed while making candidates (a node or worker died, ...)."""


_worker_ready = False


def _make_chunk(job: Job, indices: range) -> list[tuple[Genome, Media | None]]:
    """Runs on a Ray worker: make candidates ``indices`` of ``job``."""
    global _worker_ready
    if not _worker_ready:  # a Ray worker renders for as long as it lives
        keep_freed_memory()
        _worker_ready = True
    engine = get_engine(job.engine_name)  # cached per process
    if engine.version != job.engine_version:  # a node with other code: that version or fail
        engine = get_engine(job.engine_name, job.engine_version)
    return [make_candidate(job, engine, index) for index in indices]


def _settings_env() -> dict[str, str]:
    """The caller's Tastemaker settings, so engines on other nodes read the same ones."""
    return {k: v for k, v in os.environ.items() if k.startswith("TASTEMAKER_")}


def _host_port(address: str) -> tuple[str, str]:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"Ray address {address!r} is not host:port (or ray://host:port)")
    return host, port


def probe(address: str) -> None:
    """Raise ``UsageError`` unless something listens at ``address`` (``host:port`` or
    ``ray://host:port``). ``ray.init`` itself retries an unreachable address for
    minutes."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise UsageError(f"cannot reach the Ray cluster at {address}: {reason}") from None


class RayBackend:
    """Candidates made on the Ray cluster at ``address`` (None: ``RAY_ADDRESS`` if set,
    else a Ray started here for this batch with ``num_cpus`` CPUs, default every core).

    ``check`` connects (so a bad address fails before any work) and each batch
    disconnects at its end; if this process was already connected to Ray (``ray.init``
    called by the caller), that connection is used and left open.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self._started = False  # this backend called ray.init (and so shuts it down)

    def _address(self) -> str | None:
        return self.address or os.environ.get("RAY_ADDRESS") or None

    def check(self, engine: Engine) -> None:
        if importlib.util.find_spec("ray") is None:
            raise UsageError(
                "the ray backend needs Ray: pip install 'tastemaker[ray]' (or use --backend local)"
            )
        if not getattr(engine, "processes", True):
            raise UsageError(
                f"engine {engine.name!r} holds a model and uses every core of one machine "
                "itself: generate with it on the local backend"
            )
        address = self._address()
        if address is not None and address not in _NO_HOST:
            _host_port(address)  # a malformed address fails even when Ray is connected
        self._connect()

    def _connect(self) -> None:
        """Start or join Ray, unless this process is connected already."""
        import ray

        if ray.is_initialized():
            return
        address = self._address()
        if address is not None and address not in _NO_HOST:
            probe(address)
        try:
            ray.init(
                address=address,
                num_cpus=self.num_cpus if address is None else None,
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local Ray"
            raise UsageError(f"cannot start or reach {where}: {_first_line(exc)}") from None
        self._started = True

    @contextmanager
    def candidates(self, job: Job, workers: int | None) -> Iterator[Candidates]:
        import ray

        self._connect()
        try:
            remote = ray.remote(_make_chunk).options(
                num_cpus=1, runtime_env={"env_vars": _settings_env()}
            )
            job_ref = ray.put(job)  # the parents are sent to each node once, not per task
            window = max(1, int(ray.cluster_resources().get("CPU", 1)) * TASKS_PER_CPU)
            store = MediaStore(job.out)

            def run(indices: range) -> Iterator[Candidate]:
                chunks = (
                    range(start, min(start + CHUNK, indices.stop))
                    for start in range(indices.start, indices.stop, CHUNK)
                )
                pending = deque(remote.remote(job_ref, chunk) for chunk in islice(chunks, window))
                try:
                    while pending:
                        made = _get(ray, pending.popleft())
                        for chunk in islice(chunks, 1):  # keep the window full
                            pending.append(remote.remote(job_ref, chunk))
                        for genome, media in made:
                            yield stage_candidate(store, genome, media)
                finally:
                    for ref in pending:  # abandoned (an error, or the caller stopped early)
                        ray.cancel(ref)

            yield run
        finally:
            if self._started:  # what this backend started or joined, it leaves
                self._started = False
                ray.shutdown()


def _get(ray: Any, ref: Any) -> list[tuple[Genome, Media | None]]:
    """``ray.get``, with the engine's own error (a bad genome, a missing setting) raised
    as itself and a cluster failure as one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, TastemakerError):
            raise exc.cause from None
        raise BackendError(f"a Ray task failed: {_first_line(exc.cause or exc)}") from None
    except ray.exceptions.RayError as exc:
        raise BackendError(f"the Ray cluster failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
