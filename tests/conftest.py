from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own TASTEMAKER_HOME so none touches the user's state."""
    monkeypatch.setenv("TASTEMAKER_HOME", str(tmp_path / "home"))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``tastemaker`` entry point in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "tastemaker", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


POSTGRES_URL_ENV = "TASTEMAKER_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path):
    """A migrated, empty database: SQLite in a temp file, and PostgreSQL in a fresh
    schema of the server named by $TASTEMAKER_TEST_POSTGRES_URL (CI starts one)."""
    import os
    import uuid

    from sqlalchemy import create_engine, text

    from tastemaker.store.db import Database, sqlite_url

    if request.param == "sqlite":
        db = Database(sqlite_url(tmp_path / "test.db"))
        yield db
        db.dispose()
        return
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"CI must set {POSTGRES_URL_ENV} so the suite runs on PostgreSQL")
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(url, schema=schema)
    yield db
    db.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()
