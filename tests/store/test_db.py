import pytest
from sqlalchemy import inspect, select

from tastemaker.store.db import upgrade
from tastemaker.store.tables import Base, GenomeRow, Work


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
