"""Keep freed memory in the process while rendering, instead of handing it back.

Rendering allocates and frees a handful of arrays of 64 KiB to 16 MiB per node and
per image. With glibc's defaults such arrays are mapped fresh from the kernel, or the
heap top is trimmed back to it, and every new array then pays a page fault per 4 KiB
on first touch: at 256 px this made computing the pixel coordinates six times slower
and the network about twice as slow (benchmarks/generate.py; docs/decisions/
0024-malloc-for-rendering.md). Raising the two thresholds makes freed arrays reusable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's maximum: arrays up to a 2048 px plane
TRIM_THRESHOLD = 256 * 2**20  # keep up to this much freed memory at the heap top


def keep_freed_memory() -> bool:
    """Tune glibc's malloc for this process; False where there is no glibc (a no-op)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
