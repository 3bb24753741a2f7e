"""Database.write_unit on SQLite: the write lock is held from the first read."""

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tastemaker.store.db import Database, sqlite_url
from tastemaker.store.tables import Member


def test_a_write_unit_holds_the_write_lock_from_its_first_read(tmp_path) -> None:
    path = tmp_path / "w.db"
    db = Database(sqlite_url(path))
    other = sqlite3.connect(path, timeout=0.1)  # another process's connection
    try:
        with db.write_unit() as session:
            session.execute(select(Member.address)).all()  # a read, nothing written yet
            # What was read must not change before this unit writes: another writer
            # has to wait (and here, with a 0.1 s timeout, gives up).
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute(
                    "INSERT INTO members (address, created_at) VALUES (?, ?)",
                    ("0x" + "11" * 20, datetime.now(UTC).isoformat()),
                )
        with db.unit_of_work() as session:  # a plain unit of work reads without the lock
            session.execute(select(Member.address)).all()
            other.execute(
                "INSERT INTO members (address, created_at) VALUES (?, ?)",
                ("0x" + "22" * 20, datetime.now(UTC).isoformat()),
            )
            other.commit()
    finally:
        other.close()
        db.dispose()
