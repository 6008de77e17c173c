"""Logged models on SQLAlchemy Core, in the tracking store's database."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities import FileInfo, LifecycleStage
from heron.entities.logged_model import LoggedModel, LoggedModelStatus, ModelMetric, ModelOutput
from heron.errors import AlreadyExists, Conflict, NotFound
from heron.store.engine import Engines
from heron.store.logged_model_base import LoggedModelStore
from heron.store.logged_model_schema import (
    logged_model_files,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_outputs,
)
from heron.store.sql_rows import metric_value, path_under


class SqlLoggedModelStore(LoggedModelStore):
    def __init__(self, engines: Engines) -> None:
        """Use the engines of an open ``SqlTrackingStore``, which owns the schema."""
        self._engines = engines

    def create_logged_model(self, model: LoggedModel) -> None:
        try:
            with self._engines.writer.begin() as conn:
                conn.execute(
                    insert(logged_models).values(
                        model_id=model.id,
                        experiment_id=int(model.experiment_id),
                        name=model.name,
                        artifact_location=model.artifact_location,
                        status=model.status.value,
                        status_message=model.status_message,
                        creator=model.creator,
                        model_type=model.model_type,
                        source_run_id=model.source_run_id,
                        lifecycle_stage=model.lifecycle_stage.value,
                        created_time=model.created_at,
                        updated_time=model.updated_at,
                    )
                )
                _insert_pairs(conn, logged_model_tags, model.id, model.tags)
                _insert_pairs(conn, logged_model_params, model.id, model.params)
        except IntegrityError:
            raise AlreadyExists(f"logged model {model.id} already exists") from None
        self._engines.committed()

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with self._engines.reader.connect() as conn:
            row = conn.execute(
                select(logged_models).where(logged_models.c.model_id == model_id)
            ).first()
            if row is None:
                raise NotFound(f"logged model {model_id!r} does not exist")
            return _load(conn, [row])[0]

    def update_logged_model(
        self,
        model_id: str,
        now: int,
        *,
        status: LoggedModelStatus | None = None,
        status_message: str | None = None,
        lifecycle: LifecycleStage | None = None,
    ) -> LoggedModel:
        values: dict[str, Any] = {"updated_time": now}
        if status is not None:
            values["status"] = status.value
        if status_message is not None:
            values["status_message"] = status_message
        if lifecycle is not None:
            values["lifecycle_stage"] = lifecycle.value
        with self._engines.writer.begin() as conn:
            _require(conn, model_id)
            conn.execute(
                update(logged_models).where(logged_models.c.model_id == model_id).values(values)
            )
        self._engines.committed()
        return self.get_logged_model(model_id)

    def set_logged_model_tags(
        self, model_id: str, tags: Mapping[str, str | None], now: int
    ) -> None:
        with self._engines.writer.begin() as conn:
            _require(conn, model_id)
            if tags:
                conn.execute(
                    delete(logged_model_tags).where(
                        logged_model_tags.c.model_id == model_id,
                        logged_model_tags.c.key.in_(list(tags)),
                    )
                )
            _insert_pairs(
                conn, logged_model_tags, model_id, {k: v for k, v in tags.items() if v is not None}
            )
            _touch(conn, model_id, now)
        self._engines.committed()

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str], now: int) -> None:
        with self._engines.writer.begin() as conn:
            _require(conn, model_id)
            existing = dict(
                conn.execute(
                    select(logged_model_params.c.key, logged_model_params.c.value).where(
                        logged_model_params.c.model_id == model_id,
                        logged_model_params.c.key.in_(list(params)),
                    )
                ).all()
            )
            for key, value in params.items():
                if key in existing and existing[key] != value:
                    raise Conflict(
                        f"param {key!r} of logged model {model_id} is already "
                        f"{existing[key]!r}; params cannot change, log a new model instead"
                    )
            new = {k: v for k, v in params.items() if k not in existing}
            _insert_pairs(conn, logged_model_params, model_id, new)
            _touch(conn, model_id, now)
        self._engines.committed()

    def list_logged_models(
        self, experiment_ids: Sequence[str], stages: Sequence[LifecycleStage]
    ) -> list[LoggedModel]:
        ids = [int(e) for e in experiment_ids]
        with self._engines.reader.connect() as conn:
            rows = conn.execute(
                select(logged_models)
                .where(
                    logged_models.c.experiment_id.in_(ids),
                    logged_models.c.lifecycle_stage.in_([s.value for s in stages]),
                )
                .order_by(logged_models.c.created_time.desc(), logged_models.c.model_id)
            ).all()
            return _load(conn, rows)

    def log_model_outputs(self, outputs: Sequence[ModelOutput]) -> None:
        if not outputs:
            return
        with self._engines.writer.begin() as conn:
            for output in outputs:
                conn.execute(
                    delete(run_model_outputs).where(
                        run_model_outputs.c.run_id == output.run_id,
                        run_model_outputs.c.model_id == output.model_id,
                    )
                )
            conn.execute(
                insert(run_model_outputs),
                [{"run_id": o.run_id, "model_id": o.model_id, "step": o.step} for o in outputs],
            )
        self._engines.committed()

    def model_outputs(self, run_id: str) -> list[ModelOutput]:
        with self._engines.reader.connect() as conn:
            rows = conn.execute(
                select(run_model_outputs)
                .where(run_model_outputs.c.run_id == run_id)
                .order_by(run_model_outputs.c.step, run_model_outputs.c.model_id)
            ).all()
        return [ModelOutput(row.run_id, row.model_id, row.step) for row in rows]

    def log_model_metrics(self, points: Sequence[tuple[str, ModelMetric]]) -> None:
        if not points:
            return
        with self._engines.writer.begin() as conn:
            conn.execute(
                insert(logged_model_metrics),
                [
                    {
                        "model_id": model_id,
                        "run_id": p.run_id,
                        "key": p.key,
                        # NaN is kept as NULL + is_nan, as in the runs' metrics.
                        "value": None if math.isnan(p.value) else p.value,
                        "is_nan": math.isnan(p.value),
                        "timestamp": p.timestamp,
                        "step": p.step,
                        "dataset_name": p.dataset_name,
                        "dataset_digest": p.dataset_digest,
                    }
                    for model_id, p in points
                ],
            )
        self._engines.committed()

    def record_files(self, model_id: str, files: Sequence[FileInfo], now: int) -> None:
        if not files:
            return
        paths = [f.path for f in files]
        with self._engines.writer.begin() as conn:
            _require(conn, model_id)
            conn.execute(
                delete(logged_model_files).where(
                    logged_model_files.c.model_id == model_id,
                    logged_model_files.c.path.in_(paths),
                )
            )
            conn.execute(
                insert(logged_model_files),
                [
                    {"model_id": model_id, "path": f.path, "size": f.size or 0,
                     "sha256": f.sha256, "stored_time": now}
                    for f in files
                ],
            )  # fmt: skip
        self._engines.committed()

    def file_checksums(self, model_id: str, prefix: str = "") -> dict[str, str]:
        query = select(logged_model_files.c.path, logged_model_files.c.sha256).where(
            logged_model_files.c.model_id == model_id,
            path_under(logged_model_files.c.path, prefix),
        )
        with self._engines.reader.connect() as conn:
            return {row.path: row.sha256 for row in conn.execute(query)}

    def forget_files(self, model_id: str, prefix: str = "") -> None:
        with self._engines.writer.begin() as conn:
            conn.execute(
                delete(logged_model_files).where(
                    logged_model_files.c.model_id == model_id,
                    path_under(logged_model_files.c.path, prefix),
                )
            )
        self._engines.committed()


def _require(conn: Connection, model_id: str) -> None:
    found = conn.execute(
        select(logged_models.c.model_id).where(logged_models.c.model_id == model_id)
    ).first()
    if found is None:
        raise NotFound(f"logged model {model_id!r} does not exist")


def _touch(conn: Connection, model_id: str, now: int) -> None:
    conn.execute(
        update(logged_models).where(logged_models.c.model_id == model_id).values(updated_time=now)
    )


def _insert_pairs(conn: Connection, table: Any, model_id: str, pairs: Mapping[str, str]) -> None:
    if pairs:
        conn.execute(
            insert(table), [{"model_id": model_id, "key": k, "value": v} for k, v in pairs.items()]
        )


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[LoggedModel]:
    if not rows:
        return []
    ids = [row.model_id for row in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    params: dict[str, dict[str, str]] = defaultdict(dict)
    metrics: dict[str, list[ModelMetric]] = defaultdict(list)
    # Chunked: SQLite caps the number of bound parameters in one statement.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for point in conn.execute(
            select(logged_model_metrics)
            .where(logged_model_metrics.c.model_id.in_(chunk))
            .order_by(logged_model_metrics.c.model_id, logged_model_metrics.c.id)
        ):
            metrics[point.model_id].append(
                ModelMetric(
                    point.key,
                    metric_value(point.value, point.is_nan),
                    point.timestamp,
                    point.step,
                    point.run_id,
                    point.dataset_name,
                    point.dataset_digest,
                )
            )
        for target, table in ((tags, logged_model_tags), (params, logged_model_params)):
            for model_id, key, value in conn.execute(
                select(table.c.model_id, table.c.key, table.c.value).where(
                    table.c.model_id.in_(chunk)
                )
            ):
                target[model_id][key] = value
    return [
        LoggedModel(
            id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            status=LoggedModelStatus(row.status),
            created_at=row.created_time,
            updated_at=row.updated_time,
            creator=row.creator,
            model_type=row.model_type,
            source_run_id=row.source_run_id,
            status_message=row.status_message,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            tags=tags[row.model_id],
            params=params[row.model_id],
            metrics=tuple(metrics[row.model_id]),
        )
        for row in rows
    ]
