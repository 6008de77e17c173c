"""The Alembic migrations create exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from heron.store import SqlTrackingStore, migrate
from heron.store.schema import metadata


def test_migrations_match_schema(store: SqlTrackingStore) -> None:
    engine = store._engines.writer
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(sqlite_uri: str) -> None:
    store = SqlTrackingStore(sqlite_uri)
    engine = store._engines.writer
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    store.close()


def test_postgresql_keeps_key_value_statistics_for_search(postgres_url: str) -> None:
    """Migration 0008: without them the planner misjudges params filters (sql_search.py)."""
    store = SqlTrackingStore(postgres_url)
    try:
        with store._engines.writer.connect() as conn:
            found = set(conn.exec_driver_sql("SELECT stxname FROM pg_statistic_ext").scalars())
        assert {
            "st_params_key_value",
            "st_run_tags_key_value",
            "st_latest_metrics_key_value",
        } <= found
        migrate.downgrade(store._engines.writer, "0007")
        with store._engines.writer.connect() as conn:
            left = set(conn.exec_driver_sql("SELECT stxname FROM pg_statistic_ext").scalars())
        assert not {n for n in left if n.startswith("st_")}
        migrate.upgrade(store._engines.writer)
        assert migrate.current_revision(store._engines.writer) == migrate.head_revision()
    finally:
        store.close()
