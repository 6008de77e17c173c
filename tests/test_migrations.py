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
