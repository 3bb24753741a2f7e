"""Reading a JSON file someone handed us, refusing what would hurt the reader.

``json.loads`` on untrusted bytes can crash the process or hand back values the
code after it does not expect:

- nesting 100,000 deep recurses in the C decoder past the C stack (a segfault once
  something, py_ecc for one, has raised Python's recursion limit);
- ``1e999`` becomes ``inf`` and ``NaN``/``Infinity`` are accepted outright;
- non-UTF-8 bytes and huge files.

``load_json_file`` refuses each with a ``UsageError`` naming the file: one line and
exit code 2 from the CLI. Depth is measured on the raw text before parsing (strings
skipped), so the decoder never sees a document deeper than ``MAX_DEPTH``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tastemaker.errors import UsageError

MAX_BYTES = 256 * 1024 * 1024  # a round record with a million votes is ~300 bytes a vote
MAX_DEPTH = 64  # a round record nests 4 deep; genomes a little more
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _depth(text: str) -> int:
    deepest = depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif token in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is too large for a number")
    return value


def parse_json(data: bytes, name: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` (the bytes of ``name``) as strict UTF-8 JSON with capped depth."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if _depth(text) > max_depth:
        raise UsageError(f"{name} nests deeper than {max_depth} levels: not a file we read")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{name} is not JSON we accept: {exc}") from None


def load_json_file(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """The JSON value in ``path``, or a ``UsageError`` that says what is wrong."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise UsageError(f"{path} is larger than {max_bytes // 2**20} MiB: not a file we read")
    return parse_json(data, str(path))
