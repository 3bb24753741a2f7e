import pytest
from sqlalchemy import inspect, select

from tastemaker.store.db import upgrade
from tastemaker.store.tables import Base, GenomeRow, PoolEntry, Work


def test_migrations_create_every_table_and_rerun_is_a_no_op(database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    upgrade(database.engine)  # the second run changes nothing and does not fail


def test_uint256_and_hashes_round_trip_exactly(database) -> None:
    big = 2**256 - 1
    with database.unit_of_work() as session:
        session.add(GenomeRow(id="g" * 64, engine="cppn", engine_version="1", data={}, parents=[]))
        session.add(
            Work(
                content_hash=b"\x01" * 32, cid="bafy", genome_id="g" * 64, size=64, round_created=1
            )
        )
    with database.unit_of_work() as session:
        work = session.scalar(select(Work))
        assert work.content_hash == b"\x01" * 32

    from tastemaker.store.tables import Reward, RewardEpoch, Round  # noqa: F401
    from tastemaker.store.types import Uint256

    column = Uint256()
    assert column.process_result_value(column.process_bind_param(big, None), None) == big
    with pytest.raises(ValueError, match="uint256"):
        column.process_bind_param(2**256, None)


def test_a_failed_unit_of_work_leaves_nothing(database) -> None:
    with pytest.raises(RuntimeError), database.unit_of_work() as session:
        session.add(GenomeRow(id="x" * 64, engine="cppn", engine_version="1", data={}, parents=[]))
        session.flush()
        raise RuntimeError("crash in the middle")
    with database.unit_of_work() as session:
        assert session.scalar(select(GenomeRow)) is None


def test_the_migrations_match_the_models(database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], "models changed without a migration: run alembic revision --autogenerate"


def test_migration_0003_counts_past_impressions_and_keeps_an_existing_nonce_table(
    tmp_path,
) -> None:
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import MetaData, insert, text
    from sqlalchemy.orm import Session

    from tastemaker.store.db import alembic_config, make_engine, sqlite_url
    from tastemaker.store.tables import Impression, Round
    from tastemaker.store.types import Hash32

    engine = make_engine(sqlite_url(tmp_path / "old.db"))
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    works = [b"\x01" * 32, b"\x02" * 32]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        session.add(GenomeRow(id="g" * 64, engine="cppn", engine_version="1", data={}, parents=[]))
        session.add(
            Round(
                number=1,
                state="voting",
                chain_id=1,
                verifying_contract="0x" + "ab" * 20,
                opens_at=now,
                closes_at=now,
                rules={},
            )
        )
        session.flush()
        old = MetaData()
        # As they were: pool entries without shown, works without media_type.
        old.reflect(session.connection(), only=["pool_entries", "works"])
        old.tables["pool_entries"].c.work.type = Hash32()  # bound as the models bind it
        old.tables["works"].c.content_hash.type = Hash32()
        session.execute(
            insert(old.tables["works"]),
            [
                {"content_hash": w, "cid": f"c{i}", "genome_id": "g" * 64, "size": 1,
                 "round_created": 1, "created_at": now}
                for i, w in enumerate(works)
            ],
        )  # fmt: skip
        session.execute(
            insert(old.tables["pool_entries"]),
            [
                {"round": 1, "work": w, "position": i, "reason": "curated"}
                for i, w in enumerate(works)
            ],
        )
        session.add_all(Impression(round=1, member=m, work=works[0]) for m in ("0xa", "0xb", "0xc"))
        # What the web app created at start-up before the table was under migrations.
        session.execute(
            text(
                "CREATE TABLE web_siwe_nonces (nonce VARCHAR(64) PRIMARY KEY, issued_at DATETIME"
                " NOT NULL, expires_at DATETIME NOT NULL, used_at DATETIME)"
            )
        )
        session.execute(
            text("INSERT INTO web_siwe_nonces VALUES ('kept', :t, :t, NULL)"), {"t": now}
        )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(PoolEntry.work, PoolEntry.shown)).all()
        shown = {work: count for work, count in rows}
        nonces = connection.execute(text("SELECT nonce FROM web_siwe_nonces")).scalars().all()
        media_types = connection.execute(select(Work.media_type)).scalars().all()
    assert shown == {works[0]: 3, works[1]: 0}
    assert nonces == ["kept"]
    assert media_types == ["image/png", "image/png"]  # 0005: every older work is a PNG
    engine.dispose()


def _refused(path, fragment: str) -> None:
    import pytest

    from tastemaker.store.db import Database, DatabaseError, sqlite_url

    with pytest.raises(DatabaseError, match=fragment) as refused:
        Database(sqlite_url(path))
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_a_damaged_database_is_refused_with_one_line_naming_it(tmp_path) -> None:
    import sqlite3

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 20)
    _refused(garbage, "not a SQLite database")

    truncated = tmp_path / "truncated.db"
    with sqlite3.connect(truncated) as connection:
        connection.execute("create table t(x)")
        connection.executemany("insert into t values (?)", [("x" * 500,)] * 2000)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    _refused(truncated, "damaged")


def test_an_empty_database_beside_a_deployment_is_refused_not_reset(tmp_path) -> None:
    from tastemaker.store.db import Database, has_schema, sqlite_url

    empty = tmp_path / "tastemaker.db"
    empty.write_bytes(b"")
    fresh = Database(sqlite_url(empty))  # no deployment beside it: a new home
    assert has_schema(fresh.engine)
    fresh.dispose()

    empty.write_bytes(b"")
    (tmp_path / "chain" / "deployments").mkdir(parents=True)
    (tmp_path / "chain" / "deployments" / "31337.json").write_text("{}")
    _refused(empty, "records a chain deployment")
    assert empty.stat().st_size == 0  # untouched
