"""The hot write path: creating and ending runs, and batches of metrics, params and tags
(the metric points themselves: sql_metrics.py).

Statements here are plain SQL run on the DBAPI cursor. Building them with SQLAlchemy
Core cost ~400 µs per single-metric batch on SQLite (statement construction and
cache-key generation for the upserts dominated the profile); the same work as
prepared text is ~60 µs, of which ~35 µs is the commit itself. Both backends accept
this SQL unchanged (ON CONFLICT ... DO UPDATE ... WHERE is SQLite >= 3.24 and
PostgreSQL >= 9.5); only the placeholder style differs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from heron.entities import LifecycleStage, Metric, Param, RunTag
from heron.errors import InvalidArgument, NotFound
from heron.store.sql_metrics import MetricHistory

_RUN_STAGE = "SELECT lifecycle_stage FROM runs WHERE run_id = ?"
_EXPERIMENT = "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?"
_INSERT_RUN = (
    "INSERT INTO runs (run_id, experiment_id, name, status, start_time, end_time, user_id, "
    "source, git_commit, parent_run_id, lifecycle_stage, artifact_uri) "
    "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, 'active', ?)"
)
_INSERT_TAG = "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)"
_CLAIM_REQUEST = (
    "INSERT INTO applied_requests (request_id, applied_time) VALUES (?, ?) "
    "ON CONFLICT (request_id) DO NOTHING"
)
_PURGE_REQUESTS = "DELETE FROM applied_requests WHERE applied_time < ?"
REQUEST_RETENTION_MS = 24 * 3600 * 1000
# Column names come from this fixed set only, never from input.
_UPDATABLE_RUN_COLUMNS = ("status", "end_time", "name")
_INSERT_PARAM = (
    "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING"
)
_RUN_PARAMS = "SELECT key, value FROM params WHERE run_id = ?"
_UPSERT_TAG = (
    "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"
)


class BatchWriter:
    """Writes batches through a DBAPI cursor inside a transaction the caller owns."""

    def __init__(self, dialect: str) -> None:
        def adapt(sql: str) -> str:
            return sql.replace("?", "%s") if dialect == "postgresql" else sql

        self._adapt = adapt
        self._run_stage = adapt(_RUN_STAGE)
        self._experiment = adapt(_EXPERIMENT)
        self._insert_run = adapt(_INSERT_RUN)
        self._insert_tag = adapt(_INSERT_TAG)
        self._claim_request = adapt(_CLAIM_REQUEST)
        self._purge_requests = adapt(_PURGE_REQUESTS)
        self._last_purge = 0.0
        self._insert_param = adapt(_INSERT_PARAM)
        self._run_params = adapt(_RUN_PARAMS)
        self._upsert_tag = adapt(_UPSERT_TAG)
        self.metrics = MetricHistory(dialect)

    def require_active_run(self, cursor: Any, run_id: str) -> None:
        cursor.execute(self._run_stage, (run_id,))
        row = cursor.fetchone()
        if row is None:
            raise NotFound(f"no run with id {run_id!r}")
        if row[0] != LifecycleStage.ACTIVE.value:
            raise InvalidArgument(f"run {run_id} is deleted: restore it before changing it")

    def experiment_for_new_run(self, cursor: Any, experiment_key: int) -> str:
        """The artifact location of an active experiment; refuses missing or deleted ones."""
        cursor.execute(self._experiment, (experiment_key,))
        row = cursor.fetchone()
        if row is None:
            raise NotFound(f"no experiment with id {str(experiment_key)!r}")
        if row[0] != LifecycleStage.ACTIVE.value:
            raise InvalidArgument(
                f"experiment {experiment_key} is deleted: restore it before adding runs"
            )
        return str(row[1])

    def insert_run(self, cursor: Any, values: tuple[Any, ...], tags: dict[str, str]) -> None:
        """``values``: run_id, experiment_id, name, status, start_time, user, source,
        git_commit, parent_run_id, artifact_uri."""
        cursor.execute(self._insert_run, values)
        if tags:
            cursor.executemany(self._insert_tag, [(values[0], k, v) for k, v in tags.items()])

    def update_run(self, cursor: Any, run_id: str, changes: dict[str, Any]) -> None:
        columns = [c for c in _UPDATABLE_RUN_COLUMNS if c in changes]
        if not columns:
            self.require_active_run(cursor, run_id)
            return
        assignments = ", ".join(f"{column} = ?" for column in columns)
        cursor.execute(
            self._adapt(
                f"UPDATE runs SET {assignments} WHERE run_id = ? AND lifecycle_stage = 'active'"
            ),
            (*(changes[c] for c in columns), run_id),
        )
        if cursor.rowcount == 0:
            self.require_active_run(cursor, run_id)  # raises NotFound or "deleted"

    def write(
        self,
        cursor: Any,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
        request_id: str | None = None,
    ) -> bool:
        """Write the batch; False if ``request_id`` was applied before (nothing written)."""
        self.require_active_run(cursor, run_id)
        if request_id is not None and not self._claim(cursor, request_id):
            return False
        if params:
            self._write_params(cursor, run_id, params)
        if tags:
            cursor.executemany(self._upsert_tag, [(run_id, t.key, t.value) for t in tags])
        if metrics:
            self.metrics.write(cursor, run_id, metrics)
        return True

    def _claim(self, cursor: Any, request_id: str) -> bool:
        """Record ``request_id`` in this transaction; False if it is already there."""
        now = time.time()
        cursor.execute(self._claim_request, (request_id, int(now * 1000)))
        claimed = bool(cursor.rowcount)
        if now - self._last_purge > 600:  # keep the table small without a separate job
            self._last_purge = now
            cursor.execute(self._purge_requests, (int(now * 1000) - REQUEST_RETENTION_MS,))
        return claimed

    def _write_params(self, cursor: Any, run_id: str, params: Sequence[Param]) -> None:
        wanted: dict[str, str] = {}
        for param in params:
            if wanted.get(param.key, param.value) != param.value:
                raise InvalidArgument(
                    f"param {param.key!r} is given twice with different values "
                    f"({wanted[param.key]!r} and {param.value!r})"
                )
            wanted[param.key] = param.value
        cursor.executemany(self._insert_param, [(run_id, k, v) for k, v in wanted.items()])
        # Insert-if-absent, then compare: two statements whatever the number of params.
        cursor.execute(self._run_params, (run_id,))
        for key, stored in cursor.fetchall():
            if key in wanted and wanted[key] != stored:
                raise InvalidArgument(
                    f"param {key!r} of run {run_id} is already {stored!r} and cannot be changed "
                    f"to {wanted[key]!r}: params are immutable, log a new run or use a tag"
                )
