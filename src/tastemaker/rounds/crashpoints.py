"""Test-only crash points: kill the process, the node, or both at a named checkpoint.

Off unless ``TASTEMAKER_CRASH_AT`` is set, as ``CHECKPOINT=TARGET`` (for example
``minted=both``). The round service calls ``ctx.checkpoint(name)`` between its side
effects (see ``tastemaker.rounds.service``); when ``name`` matches, the hook acts:

- ``cli``: SIGKILL this process; the node it started (if any) keeps running.
- ``node``: SIGKILL this home's embedded node, then carry on (the next chain call fails).
- ``both``: SIGKILL the node, then this process.
- ``stall``: SIGSTOP the node, then SIGKILL this process (the next command must not
  start a second node on the same state file while this one is stopped).
- ``pause``: SIGSTOP the node and carry on (the test resumes it with SIGCONT).

Used by tests/rounds/test_crash.py. Never set it in a deployment.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from tastemaker.chain.client import ChainClient

ENV = "TASTEMAKER_CRASH_AT"
TARGETS = ("cli", "node", "both", "stall", "pause")


def from_env(chain: ChainClient) -> Callable[[str], None] | None:
    """The checkpoint hook that ``TASTEMAKER_CRASH_AT`` asks for, or None."""
    spec = os.environ.get(ENV)
    if not spec:
        return None
    point, _, target = spec.partition("=")
    if target not in TARGETS:
        raise ValueError(f"{ENV}={spec!r}: the target must be one of {', '.join(TARGETS)}")

    def hook(name: str) -> None:
        if name != point:
            return
        node = chain.node
        pid = node.pid if node is not None else None
        if target in ("node", "both") and pid is not None:
            os.kill(pid, signal.SIGKILL)
            while node is not None and node.running():  # gone, lock released
                time.sleep(0.01)
        if target in ("stall", "pause") and pid is not None:
            os.kill(pid, signal.SIGSTOP)
        if target in ("cli", "both", "stall"):
            os.kill(os.getpid(), signal.SIGKILL)

    return hook
