"""Revision 0005 moves metric history to integer series ids without losing a point."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from heron.entities import Metric
from heron.services import TrackingService
from heron.store import SqlTrackingStore, migrate

# (key, value, timestamp, step) as Heron 0004 stored them, in insertion (id) order:
# a tie on (step, timestamp) whose order only the ids keep, NaN, infinities.
OLD_POINTS = [
    ("loss", 0.9, 2000, 1),
    ("loss", 0.5, 1000, 5),
    ("loss", 0.4, 1000, 5),
    ("loss", math.nan, 3000, 3),
    ("acc", math.inf, 10, 0),
    ("acc", -math.inf, 20, 0),
]


@pytest.fixture
def service(store_uri: str, tmp_path: Path) -> Iterator[TrackingService]:
    store = SqlTrackingStore(store_uri)
    engine = store._engines.writer
    if store.dialect == "postgresql":  # the worker's shared database: start empty
        from heron.store.schema import metadata

        with engine.begin() as conn:
            tables = ", ".join(t.name for t in metadata.sorted_tables)
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    try:
        yield TrackingService(store, str(tmp_path / "artifacts"))
    finally:
        migrate.upgrade(engine)  # other tests expect the newest schema
        store.close()


def _old_history(engine: sa.Engine, run_id: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.exec_driver_sql(
                "SELECT key, value, is_nan, timestamp, step FROM metrics "
                f"WHERE run_id = '{run_id}' ORDER BY id"
            )
        ]


def test_upgrade_keeps_history_and_ids_continue(service: TrackingService) -> None:
    store = service.store
    assert isinstance(store, SqlTrackingStore)
    engine = store._engines.writer
    experiment = service.create_experiment("migrated").id
    run = service.create_run(experiment)
    other = service.create_run(experiment)
    migrate.downgrade(engine, "0004")
    with engine.begin() as conn:
        for run_id in (run.id, other.id):
            for key, value, timestamp, step in OLD_POINTS:
                nan = math.isnan(value)
                conn.execute(
                    sa.text(
                        "INSERT INTO metrics (run_id, key, value, is_nan, timestamp, step) "
                        "VALUES (:run, :key, :value, :nan, :ts, :step)"
                    ),
                    {"run": run_id, "key": key, "value": None if nan else value,
                     "nan": nan, "ts": timestamp, "step": step},
                )  # fmt: skip
            conn.execute(
                sa.text(
                    "INSERT INTO latest_metrics (run_id, key, value, is_nan, timestamp, step) "
                    "VALUES (:run, 'loss', 0.4, false, 1000, 5), (:run, 'acc', :inf, false, 20, 0)"
                ),
                {"run": run_id, "inf": -math.inf},
            )
    before = _old_history(engine, run.id)

    migrate.upgrade(engine)

    history = service.get_metric_history(run.id, "loss").items
    assert [(m.step, m.timestamp) for m in history] == [(1, 2000), (3, 3000), (5, 1000), (5, 1000)]
    assert math.isnan(history[1].value)
    # 0.5 was logged before 0.4 at the same step and time: the copied ids keep it first.
    assert [history[0].value, history[2].value, history[3].value] == [0.9, 0.5, 0.4]
    acc = service.get_metric_history(other.id, "acc").items
    assert [m.value for m in acc] == [math.inf, -math.inf]
    assert service.get_run(run.id).metrics == {"loss": 0.4, "acc": -math.inf}
    page = service.search_runs([experiment], filter_string="metrics.loss < 0.5")
    assert sorted(r.id for r in page) == sorted([run.id, other.id])

    # New points get ids after the migrated ones: a new tie sorts after the old ones.
    service.log_batch(run.id, metrics=[Metric("loss", 0.1, 1000, 5)])
    tail = service.get_metric_history(run.id, "loss").items[-3:]
    assert [m.value for m in tail] == [0.5, 0.4, 0.1]

    # And back: downgrading restores the old layout with the same rows.
    migrate.downgrade(engine, "0004")
    after = _old_history(engine, run.id)
    assert _same(after[: len(before)], before)
    assert after[len(before)][:2] == ("loss", 0.1)


def _same(left: list[tuple[object, ...]], right: list[tuple[object, ...]]) -> bool:
    def norm(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(bool(v) if i == 2 else v for i, v in enumerate(row))

    return [norm(r) for r in left] == [norm(r) for r in right]
