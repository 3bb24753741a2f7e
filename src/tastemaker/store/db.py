"""Database connection: SQLite (WAL) by default, PostgreSQL by URL; schema by Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

from tastemaker.errors import TastemakerError

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(TastemakerError):
    """The database cannot be reached or is not at the expected schema."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for ``url``; ``schema`` (PostgreSQL only) isolates one deployment or test."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def make_writer_engine(url: str) -> Engine:
    """A SQLite engine whose transactions start with ``BEGIN IMMEDIATE``: the write lock
    is taken before the first read, so what a transaction reads (a voter's budget, the
    impressions so far) cannot change under it, not even from another process. (The
    driver's default begins only at the first write, after the reads; SQLAlchemy's
    documented recipe for SQLite transaction control.)"""
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        _sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None  # the driver begins nothing itself

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    # FULL: each commit is fsynced to the WAL before it returns, so an acknowledged vote
    # survives an OS crash or power loss (NORMAL only syncs at checkpoints). Group commit
    # (rounds/intake.py) pays one fsync per batch of votes, not one per vote.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SADatabaseError as exc:  # OperationalError (unreachable) included
        raise DatabaseError(f"cannot use the database {_name(engine)}: {exc.orig}") from None


def _name(engine: Engine) -> str:
    url = engine.url
    return url.database if url.get_backend_name() == "sqlite" else url.render_as_string()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_sqlite_file(path: Path) -> None:
    """Refuse a SQLite file that is not one, is damaged, or was emptied beside a deployment.

    Run before anything else starts (the embedded node above all): a damaged store
    stops the command with one line naming the file, and nothing else is touched.
    """
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        deployments = path.parent / "chain" / "deployments"
        if deployments.is_dir() and any(deployments.glob("*.json")):
            raise DatabaseError(
                f"the database {path} is empty, but {deployments} records a chain deployment: "
                "restore the database from a backup (refusing to start that deployment over)"
            )
        return
    with open(path, "rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise DatabaseError(f"the database {path} is not a SQLite database (damaged?)")
    engine = create_engine(sqlite_url(path), connect_args={"timeout": 30})
    try:
        with engine.connect() as connection:
            # quick_check: every page and the b-tree structure, without the slow index
            # cross-check; about 0.1 s per 100 MB.
            result = connection.execute(text("PRAGMA quick_check(1)")).scalar()
    except SADatabaseError as exc:
        raise DatabaseError(f"the database {path} is damaged: {exc.orig}") from None
    finally:
        engine.dispose()
    if result != "ok":
        raise DatabaseError(f"the database {path} is damaged: {result}")


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


class Database:
    """An engine plus a session factory; ``unit_of_work`` commits or rolls back."""

    def __init__(self, url: str, migrate: bool = True, schema: str | None = None) -> None:
        self.url = url
        path = sqlite_file(url)
        if path is not None:
            check_sqlite_file(path)
        self.engine = make_engine(url, schema)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer_sessions: sessionmaker[Session] | None = None

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with _committed(self._sessions) as session:
            yield session

    @contextmanager
    def write_unit(self) -> Iterator[Session]:
        """A unit of work that reads and then writes, exactly even when other processes
        write the same rows: on SQLite it holds the write lock from its first statement
        (``make_writer_engine``); on PostgreSQL it is ``unit_of_work``, whose callers
        lock the rows they read (``SELECT ... FOR UPDATE``)."""
        if sqlite_file(self.url) is None:  # PostgreSQL (or an in-memory SQLite: one process)
            with self.unit_of_work() as session:
                yield session
            return
        if self._writer_sessions is None:
            self._writer_sessions = sessionmaker(
                make_writer_engine(self.url), expire_on_commit=False
            )
        with _committed(self._writer_sessions) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writer_sessions is not None:
            bind = self._writer_sessions.kw["bind"]
            bind.dispose()


@contextmanager
def _committed(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed when the block ends, rolled back if it raises."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
