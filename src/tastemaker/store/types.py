"""Column types that hold Ethereum values exactly on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

UINT256_DIGITS = 78  # len(str(2**256 - 1))


class Uint256(TypeDecorator[int]):
    """An unsigned 256-bit integer stored as zero-padded decimal text.

    Neither database has a native 256-bit integer (SQLite's stop at 2**63), and
    wei amounts pass that; padded text stays exact and sorts numerically.
    """

    impl = String(UINT256_DIGITS)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        value = int(value)
        if not 0 <= value < 2**256:
            raise ValueError(f"{value} does not fit in uint256")
        return str(value).zfill(UINT256_DIGITS)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Hash32(TypeDecorator[bytes]):
    """A 32-byte hash (work content hash, vote id, Merkle root) as 64 hex characters."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if len(value) != 32:
            raise ValueError("a Hash32 must be 32 bytes")
        return bytes(value).hex()

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes.fromhex(value)
