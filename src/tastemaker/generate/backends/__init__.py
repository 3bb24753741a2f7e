"""Generation backends: where ``generate_works`` makes its candidates.

``local`` uses this machine's cores; ``ray`` spreads them over a Ray cluster (the
``ray`` extra). Both give byte-identical works for the same seed.
"""

from __future__ import annotations

from tastemaker.errors import UsageError
from tastemaker.generate.backends.base import Backend, Candidate, Candidates, Job, propose
from tastemaker.generate.backends.local import LocalBackend

BACKENDS = ("local", "ray")

__all__ = [
    "BACKENDS",
    "Backend",
    "Candidate",
    "Candidates",
    "Job",
    "LocalBackend",
    "get_backend",
    "propose",
]


def get_backend(
    name: str = "local", address: str | None = None, workers: int | None = None
) -> Backend:
    """The backend called ``name``. ``address`` is a Ray cluster's and ``workers`` the
    CPUs of a Ray started here (both for ray only; local takes workers per batch)."""
    if name == "local":
        return LocalBackend()
    if name == "ray":
        from tastemaker.generate.backends.ray import RayBackend  # imports no Ray

        return RayBackend(address, num_cpus=workers)
    raise UsageError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}")
