"""Shared fixtures: every store test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from heron.services import TrackingService
from heron.store import SqlTrackingStore

POSTGRES_URL = os.environ.get(
    "HERON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _service_missing(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error}); set HERON_TEST_POSTGRES_URL"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url(worker_id: str, testrun_uid: str) -> Iterator[str]:
    """A database of its own for this test worker, created fresh and dropped at the end.

    The test run's id is in the name so that two test runs on one machine (two
    checkouts, or a benchmark smoke test beside the suite) never share a database.
    """
    admin_url = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    name = f"heron_test_{testrun_uid[:10]}_{worker_id}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        _service_missing("PostgreSQL", exc)
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def _truncate_all(store: SqlTrackingStore) -> None:
    from heron.store.schema import metadata

    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with store._engines.writer.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'heron.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_uri: str) -> Iterator[SqlTrackingStore]:
    store = SqlTrackingStore(store_uri)
    if store.dialect == "postgresql":
        _truncate_all(store)
    yield store
    store.close()


@pytest.fixture
def service(store: SqlTrackingStore, tmp_path: Path) -> TrackingService:
    return TrackingService(store, str(tmp_path / "artifacts"))


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'heron.db'}"
