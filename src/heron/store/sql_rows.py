"""Turning rows into entities, and loading the logged data of many runs at once."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    any_,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from heron.entities import (
    Dataset,
    Experiment,
    LifecycleStage,
    Metric,
    Run,
    RunInput,
    RunStatus,
)
from heron.store.schema import datasets, latest_metrics, params, run_inputs, run_tags, runs

# SQLite caps bound parameters per statement (32766 in current builds); stay far below.
_IN_CHUNK = 900


def run_id_in(connection: Connection, column: Any, ids: Sequence[str]) -> ColumnElement[bool]:
    """``column IN ids``. On PostgreSQL as ``= ANY(:ids)``: one statement text for any number
    of ids, which psycopg prepares after a few executions, where an IN list is a new
    statement for each length. Loading a page of 100 runs measured 20-40% faster."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(ids)  # type: ignore[no-any-return]


def path_under(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` (an artifact path) is ``prefix`` or inside it; "" matches every path.
    A literal match: "_" and "%" in paths must not act as LIKE wildcards."""
    if not prefix:
        return true()
    return or_(column == prefix, func.substr(column, 1, len(prefix) + 1) == prefix + "/")


def metric_value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan or value is None else float(value)


def experiment_from_row(row: Row[Any], tags: dict[str, str]) -> Experiment:
    return Experiment(
        id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
        tags=tags,
    )


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]


def load_runs(connection: Connection, run_rows: Sequence[Row[Any]]) -> list[Run]:
    """Build full Run entities for rows of ``runs``, in the given order, in 4 queries per chunk."""
    ids = [row.run_id for row in run_rows]
    param_map: dict[str, dict[str, str]] = defaultdict(dict)
    tag_map: dict[str, dict[str, str]] = defaultdict(dict)
    metric_map: dict[str, dict[str, float]] = defaultdict(dict)
    input_map: dict[str, list[RunInput]] = defaultdict(list)
    for chunk in _chunks(ids):
        for run_id, key, value in connection.execute(
            select(params.c.run_id, params.c.key, params.c.value).where(
                run_id_in(connection, params.c.run_id, chunk)
            )
        ):
            param_map[run_id][key] = value
        for run_id, key, value in connection.execute(
            select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
                run_id_in(connection, run_tags.c.run_id, chunk)
            )
        ):
            tag_map[run_id][key] = value
        for run_id, key, value, is_nan in connection.execute(
            select(
                latest_metrics.c.run_id,
                latest_metrics.c.key,
                latest_metrics.c.value,
                latest_metrics.c.is_nan,
            ).where(run_id_in(connection, latest_metrics.c.run_id, chunk))
        ):
            metric_map[run_id][key] = metric_value(value, is_nan)
        for row in connection.execute(
            select(run_inputs.c.run_id, run_inputs.c.context, datasets)
            .join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id)
            .where(run_id_in(connection, run_inputs.c.run_id, chunk))
            .order_by(datasets.c.name, run_inputs.c.context)
        ):
            input_map[row.run_id].append(RunInput(dataset_from_row(row), row.context))
    return [
        run_from_row(
            row,
            params=param_map.get(row.run_id, {}),
            metrics=metric_map.get(row.run_id, {}),
            tags=tag_map.get(row.run_id, {}),
            inputs=tuple(input_map.get(row.run_id, ())),
        )
        for row in run_rows
    ]


def load_latest_metrics(connection: Connection, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
    """The latest point (value, step, timestamp) of every metric of each run, by key."""
    found: dict[str, list[Metric]] = defaultdict(list)
    for chunk in _chunks(run_ids):
        for row in connection.execute(
            select(latest_metrics).where(run_id_in(connection, latest_metrics.c.run_id, chunk))
        ):
            found[row.run_id].append(
                Metric(row.key, metric_value(row.value, row.is_nan), row.timestamp, row.step)
            )
    return found


def dataset_from_row(row: Row[Any]) -> Dataset:
    return Dataset(
        name=row.name,
        digest=row.digest,
        source_type=row.source_type,
        source=row.source,
        schema=orjson.loads(row.schema),
        profile=orjson.loads(row.profile),
    )


def run_from_row(
    row: Row[Any],
    *,
    params: dict[str, str],
    metrics: dict[str, float],
    tags: dict[str, str],
    inputs: tuple[RunInput, ...],
) -> Run:
    return Run(
        id=row.run_id,
        experiment_id=str(row.experiment_id),
        name=row.name,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        user=row.user_id,
        source=row.source,
        git_commit=row.git_commit,
        parent_run_id=row.parent_run_id,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        artifact_uri=row.artifact_uri,
        params=params,
        metrics=metrics,
        tags=tags,
        inputs=inputs,
    )


RUN_COLUMNS = tuple(runs.c)
