"""The tracking metadata store on SQLAlchemy Core: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, case, event, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from heron.entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    Page,
    Param,
    Run,
    RunInput,
    RunStatus,
    RunTag,
)
from heron.entities.experiment import ExperimentStats
from heron.entities.series import SeriesPage
from heron.errors import AlreadyExists, InvalidArgument, NotFound
from heron.search.ast import And, Comparison, Expr, Identifier, OrderKey
from heron.store import migrate
from heron.store.base import TrackingStore, ViewType
from heron.store.engine import Engines, create_engines
from heron.store.group_commit import GroupCommitter, GroupStats
from heron.store.schema import (
    artifact_files,
    datasets,
    experiment_tags,
    experiments,
    run_inputs,
    run_tags,
    runs,
)
from heron.store.sql_batch import BatchWriter
from heron.store.sql_experiment_search import search_experiments
from heron.store.sql_metric_sampling import Chooser, count_points, sample_series
from heron.store.sql_metrics import series_page
from heron.store.sql_rows import (
    experiment_from_row,
    load_latest_metrics,
    load_runs,
    path_under,
)
from heron.store.sql_search import (
    apply_order,
    compile_filter,
    decode_token,
    encode_token,
    keyset_after,
    query_fingerprint,
    split_order_metric_filters,
)
from heron.store.sqlite_columns import SqliteColumnReader

T = TypeVar("T")

_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _to_float(text: str | None) -> float | None:
    """SQL function for SQLite: a param or tag value as a number, NULL if it is not one."""
    if text is None or not _NUMBER.match(text):
        return None
    return float(text)


class SqlTrackingStore(TrackingStore):
    def __init__(self, uri: str, *, upgrade: bool = False) -> None:
        """Open the store at ``uri``. A fresh database gets the schema created.

        A database at an older schema revision is upgraded only if ``upgrade`` is true;
        otherwise opening fails and says to run ``heron db upgrade``.
        """
        self.uri = uri
        self._engines = create_engines(uri)
        self.dialect = self._engines.dialect
        if self.dialect == "sqlite":
            for engine in (self._engines.reader, self._engines.writer):
                event.listen(engine, "connect", _register_sqlite_functions)
        try:
            self._ensure_schema(upgrade)
        except BaseException:
            self._engines.dispose()  # stop the checkpointer thread of a store never opened
            raise
        self._insert = sqlite.insert if self.dialect == "sqlite" else postgresql.insert
        self._batch_writer = BatchWriter(self.dialect)
        self._metric_history = self._batch_writer.metrics
        self._group_committer = (
            GroupCommitter(self._engines.writer.raw_connection)
            if self.dialect == "sqlite"
            else None
        )
        # Long SQLite scans in helper processes: servers only (start_column_readers).
        self._columns: SqliteColumnReader | None = None

    def _ensure_schema(self, upgrade: bool) -> None:
        current = migrate.current_revision(self._engines.writer)
        head = migrate.head_revision()
        if current == head:
            return
        if current is None or upgrade:
            migrate.upgrade(self._engines.writer)
            return
        raise InvalidArgument(
            f"the database at {self.uri} has schema revision {current}, this Heron needs "
            f"{head}: back it up, then run `heron db upgrade`"
        )

    @property
    def engines(self) -> Engines:
        """The database connections, shared with the registry store of the same database."""
        return self._engines

    def start_column_readers(self, *, prestart: bool = False) -> None:
        """On SQLite, read long scans (charts' downsampling) in helper processes from now
        on (heron.store.sqlite_columns); they start on the first such read, or now with
        ``prestart`` (they take about half a second to import)."""
        database = make_url(self.uri).database  # never in-memory: create_engines refuses it
        if self.dialect == "sqlite" and database and self._columns is None:
            self._columns = SqliteColumnReader(database)
        if prestart and self._columns is not None:
            self._columns.start()

    def close(self) -> None:
        if self._columns is not None:
            self._columns.close()
        self._engines.dispose()

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        tags: dict[str, str],
        now: int,
        artifact_location_for: Callable[[str], str],
    ) -> Experiment:
        try:
            with self._engines.writer.begin() as conn:
                experiment_id = conn.execute(
                    insert(experiments).returning(experiments.c.experiment_id),
                    {
                        "name": name,
                        "artifact_location": "",
                        "lifecycle_stage": LifecycleStage.ACTIVE.value,
                        "creation_time": now,
                        "last_update_time": now,
                    },
                ).scalar_one()
                conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == experiment_id)
                    .values(artifact_location=artifact_location_for(str(experiment_id)))
                )
                if tags:
                    conn.execute(
                        insert(experiment_tags),
                        [
                            {"experiment_id": experiment_id, "key": k, "value": v}
                            for k, v in tags.items()
                        ],
                    )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"an experiment named {name!r} already exists (it may be deleted: "
                "restore it or pick another name)"
            ) from exc
        return self.get_experiment(str(experiment_id))

    def _experiment_where(self, conn: Connection, clause: Any) -> Experiment | None:
        row = conn.execute(select(experiments).where(clause)).first()
        if row is None:
            return None
        tags = dict(
            conn.execute(
                select(experiment_tags.c.key, experiment_tags.c.value).where(
                    experiment_tags.c.experiment_id == row.experiment_id
                )
            ).all()
        )
        return experiment_from_row(row, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        key = _experiment_key(experiment_id)
        with self._engines.reader.connect() as conn:
            found = self._experiment_where(conn, experiments.c.experiment_id == key)
        if found is None:
            raise NotFound(f"no experiment with id {experiment_id!r}")
        return found

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        with self._engines.reader.connect() as conn:
            return self._experiment_where(conn, experiments.c.name == name)

    def search_experiments(
        self,
        view: ViewType,
        name_like: str | None,
        max_results: int,
        page_token: str | None,
        filter_expr: Expr | None = None,
        order_by: Sequence[OrderKey] = (),
    ) -> Page[Experiment]:
        if filter_expr is not None or order_by:
            if name_like:
                name = Comparison(Identifier("attribute", "name"), "LIKE", name_like)
                filter_expr = name if filter_expr is None else And((name, filter_expr))
            with self._engines.reader.connect() as conn:
                return search_experiments(
                    conn, view, filter_expr, order_by, max_results, page_token
                )
        fingerprint = query_fingerprint("experiments", view.value, name_like)
        query = select(experiments).where(experiments.c.lifecycle_stage.in_(view.stages()))
        if name_like:
            query = query.where(experiments.c.name.like(name_like))
        if page_token:
            (after,) = decode_token(page_token, fingerprint)
            query = query.where(experiments.c.experiment_id > int(after))
        query = query.order_by(experiments.c.experiment_id).limit(max_results + 1)
        with self._engines.reader.connect() as conn:
            rows = conn.execute(query).all()
            tag_rows = conn.execute(
                select(experiment_tags).where(
                    experiment_tags.c.experiment_id.in_([r.experiment_id for r in rows])
                )
            ).all()
        tags: dict[int, dict[str, str]] = {}
        for tag in tag_rows:
            tags.setdefault(tag.experiment_id, {})[tag.key] = tag.value
        items = [experiment_from_row(r, tags.get(r.experiment_id, {})) for r in rows]
        token = None
        if len(items) > max_results:
            items = items[:max_results]
            token = encode_token(fingerprint, [int(items[-1].id)])
        return Page(items, token)

    def experiment_stats(self, experiment_ids: Sequence[str]) -> list[ExperimentStats]:
        keys = []
        for experiment_id in experiment_ids:
            try:
                keys.append(_experiment_key(experiment_id))
            except NotFound:
                continue  # an id that cannot exist is as absent as one that does not
        deleted = runs.c.lifecycle_stage == LifecycleStage.DELETED.value
        # One GROUP BY over the runs' (experiment_id, start_time, run_id) index, however
        # many experiments the page lists; a run's last activity is its end, else its start.
        query = (
            select(
                experiments.c.experiment_id,
                experiments.c.last_update_time,
                func.count(runs.c.run_id).label("runs"),
                func.coalesce(func.sum(case((deleted, 1), else_=0)), 0).label("deleted"),
                func.max(func.coalesce(runs.c.end_time, runs.c.start_time)).label("last_run"),
            )
            .select_from(
                experiments.outerjoin(runs, runs.c.experiment_id == experiments.c.experiment_id)
            )
            .where(experiments.c.experiment_id.in_(keys))
            .group_by(experiments.c.experiment_id, experiments.c.last_update_time)
            .order_by(experiments.c.experiment_id)
        )
        with self._engines.reader.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ExperimentStats(
                experiment_id=str(row.experiment_id),
                active_runs=int(row.runs) - int(row.deleted),
                deleted_runs=int(row.deleted),
                last_activity=max(int(row.last_update_time), int(row.last_run or 0)),
            )
            for row in rows
        ]

    def rename_experiment(self, experiment_id: str, new_name: str, now: int) -> None:
        key = _experiment_key(experiment_id)
        try:
            with self._engines.writer.begin() as conn:
                done = conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == key)
                    .values(name=new_name, last_update_time=now)
                ).rowcount
        except IntegrityError as exc:
            raise AlreadyExists(f"an experiment named {new_name!r} already exists") from exc
        if not done:
            raise NotFound(f"no experiment with id {experiment_id!r}")

    def set_experiment_lifecycle(self, experiment_id: str, stage: LifecycleStage, now: int) -> None:
        key = _experiment_key(experiment_id)
        with self._engines.writer.begin() as conn:
            done = conn.execute(
                update(experiments)
                .where(experiments.c.experiment_id == key)
                .values(lifecycle_stage=stage.value, last_update_time=now)
            ).rowcount
        if not done:
            raise NotFound(f"no experiment with id {experiment_id!r}")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        experiment_key = _experiment_key(experiment_id)
        with self._engines.writer.begin() as conn:
            self._require_experiment(conn, experiment_key)
            stmt = self._insert(experiment_tags).values(
                experiment_id=experiment_key, key=key, value=value
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[experiment_tags.c.experiment_id, experiment_tags.c.key],
                    set_={"value": stmt.excluded.value},
                )
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        experiment_key = _experiment_key(experiment_id)
        with self._engines.writer.begin() as conn:
            self._require_experiment(conn, experiment_key)
            done = conn.execute(
                experiment_tags.delete().where(
                    experiment_tags.c.experiment_id == experiment_key,
                    experiment_tags.c.key == key,
                )
            ).rowcount
        if not done:
            raise NotFound(f"experiment {experiment_id} has no tag {key!r}")

    def _require_experiment(self, conn: Connection, experiment_key: int) -> str:
        stage = conn.execute(
            select(experiments.c.lifecycle_stage).where(
                experiments.c.experiment_id == experiment_key
            )
        ).scalar()
        if stage is None:
            raise NotFound(f"no experiment with id {experiment_key!r}")
        return str(stage)

    # -- runs --------------------------------------------------------------------------

    def create_run(
        self,
        *,
        experiment_id: str,
        name: str,
        status: RunStatus,
        start_time: int,
        user: str,
        source: str,
        git_commit: str | None,
        parent_run_id: str | None,
        tags: dict[str, str],
        artifact_uri_for: Callable[[str, str], str],
    ) -> Run:
        experiment_key = _experiment_key(experiment_id)
        run_id = uuid.uuid4().hex

        def insert(cursor: Any) -> str:
            location = self._batch_writer.experiment_for_new_run(cursor, experiment_key)
            uri = artifact_uri_for(location, run_id)
            if parent_run_id is not None:
                self._batch_writer.require_active_run(cursor, parent_run_id)
            values = (run_id, experiment_key, name, status.value, start_time, user, source,
                      git_commit, parent_run_id, uri)  # fmt: skip
            self._batch_writer.insert_run(cursor, values, tags)
            return uri

        artifact_uri = self._write(insert)
        # Built from what was written rather than read back: a new run has nothing else.
        return Run(
            id=run_id,
            experiment_id=str(experiment_key),
            name=name,
            status=status,
            start_time=start_time,
            end_time=None,
            user=user,
            source=source,
            git_commit=git_commit,
            parent_run_id=parent_run_id,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=artifact_uri,
            tags=dict(tags),
        )

    def get_run(self, run_id: str) -> Run:
        with self._engines.reader.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
            if row is None:
                raise NotFound(f"no run with id {run_id!r}")
            return load_runs(conn, [row])[0]

    def get_artifact_uri(self, run_id: str) -> str:
        with self._engines.reader.connect() as conn:
            uri = conn.execute(
                select(runs.c.artifact_uri).where(runs.c.run_id == run_id)
            ).scalar_one_or_none()
        if uri is None:
            raise NotFound(f"no run with id {run_id!r}")
        return str(uri)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status.value
        if end_time is not None:
            changes["end_time"] = end_time
        if name is not None:
            changes["name"] = name
        self._write(lambda cursor: self._batch_writer.update_run(cursor, run_id, changes))

    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage) -> None:
        with self._engines.writer.begin() as conn:
            done = conn.execute(
                update(runs).where(runs.c.run_id == run_id).values(lifecycle_stage=stage.value)
            ).rowcount
        if not done:
            raise NotFound(f"no run with id {run_id!r}")

    def _require_active_run(self, conn: Connection, run_id: str) -> None:
        # The one check of the hot path, on this transaction's DBAPI connection.
        cursor = conn.connection.cursor()
        try:
            self._batch_writer.require_active_run(cursor, run_id)
        finally:
            cursor.close()

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> bool:
        return self._write(
            lambda cursor: self._batch_writer.write(
                cursor, run_id, metrics, params, tags, request_id
            )
        )

    def _write(self, work: Callable[[Any], T]) -> T:
        """Run ``work(cursor)`` in a write transaction on the DBAPI connection.

        The hot paths (sql_batch.py) bypass SQLAlchemy's begin/commit machinery, which
        alone cost ~45 µs of a ~120 µs single-metric write in the profile. On SQLite
        concurrent writes are committed together (group_commit.py).
        """
        if self._group_committer is not None:
            result = self._group_committer.run(work)
            self._engines.committed()
            return result
        connection = self._engines.writer.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                result = work(cursor)
                connection.commit()
                return result
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool

    @property
    def group_commit_stats(self) -> GroupStats | None:
        return None if self._group_committer is None else self._group_committer.stats

    def record_artifacts(self, run_id: str, files: Sequence[FileInfo], now: int) -> None:
        if not files:
            return
        with self._engines.writer.begin() as conn:
            stmt = self._insert(artifact_files)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[artifact_files.c.run_id, artifact_files.c.path],
                    set_={
                        "size": stmt.excluded.size,
                        "sha256": stmt.excluded.sha256,
                        "stored_time": stmt.excluded.stored_time,
                    },
                ),
                [
                    {"run_id": run_id, "path": f.path, "size": f.size or 0,
                     "sha256": f.sha256, "stored_time": now}
                    for f in files
                ],
            )  # fmt: skip

    def forget_artifacts(self, run_id: str, prefix: str = "") -> None:
        with self._engines.writer.begin() as conn:
            conn.execute(
                artifact_files.delete().where(
                    artifact_files.c.run_id == run_id, path_under(artifact_files.c.path, prefix)
                )
            )

    def artifact_checksums(self, run_id: str, prefix: str = "") -> dict[str, str]:
        query = select(artifact_files.c.path, artifact_files.c.sha256).where(
            artifact_files.c.run_id == run_id
        )
        if prefix:
            query = query.where(
                or_(
                    artifact_files.c.path == prefix,
                    # Literal prefix match: "_" and "%" in paths must not act as wildcards.
                    func.substr(artifact_files.c.path, 1, len(prefix) + 1) == prefix + "/",
                )
            )
        with self._engines.reader.connect() as conn:
            return {row.path: row.sha256 for row in conn.execute(query)}

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._engines.writer.begin() as conn:
            self._require_active_run(conn, run_id)
            done = conn.execute(
                run_tags.delete().where(run_tags.c.run_id == run_id, run_tags.c.key == key)
            ).rowcount
        if not done:
            raise NotFound(f"run {run_id} has no tag {key!r}")

    def get_metric_series(
        self, run_id: str, key: str, max_results: int, page_token: str | None
    ) -> SeriesPage:
        fingerprint = query_fingerprint("history", run_id, key)
        after = decode_token(page_token, fingerprint) if page_token else None
        if after is not None and (len(after) != 3 or not all(type(v) is int for v in after)):
            raise InvalidArgument("invalid page_token: pass back the previous next_page_token")
        # A raw cursor: SQLAlchemy's result rows cost more than the query on a page of
        # 25,000 points. The pool ends PostgreSQL's read transaction when it takes the
        # connection back; SQLite's reader connections are in autocommit mode.
        connection = self._engines.reader.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                rows, run_exists = self._metric_history.read_page(
                    cursor, run_id, key, max_results + 1, after
                )
            finally:
                cursor.close()
        finally:
            connection.close()
        if not run_exists:
            raise NotFound(f"no run with id {run_id!r}")
        token = None
        if len(rows) > max_results:
            del rows[max_results:]
            step, timestamp, _value, point_id = rows[-1]
            token = encode_token(fingerprint, [step, timestamp, point_id])
        return series_page(key, rows, token)

    def sample_metric_history(self, run_id: str, key: str, choose: Chooser) -> SeriesPage:
        page, run_exists = self._on_raw_cursor(
            lambda cursor, postgres: sample_series(
                cursor, postgres, run_id, key, choose, self._columns
            )
        )
        if not run_exists:
            raise NotFound(f"no run with id {run_id!r}")
        return page

    def count_metric_points(self, run_id: str, key: str) -> int:
        count = self._on_raw_cursor(
            lambda cursor, postgres: count_points(cursor, postgres, run_id, key)
        )
        if count is None:
            raise NotFound(f"no run with id {run_id!r}")
        return count

    def _on_raw_cursor(self, read: Callable[[Any, bool], T]) -> T:
        """``read(cursor, is_postgres)`` on a reader connection's DBAPI cursor."""
        connection = self._engines.reader.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                return read(cursor, self._engines.reader.dialect.name == "postgresql")
            finally:
                cursor.close()
        finally:
            connection.close()

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
        with self._engines.reader.connect() as conn:
            return load_latest_metrics(conn, run_ids)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        with self._engines.writer.begin() as conn:
            self._require_active_run(conn, run_id)
            experiment_id = conn.execute(
                select(runs.c.experiment_id).where(runs.c.run_id == run_id)
            ).scalar_one()
            for run_input in inputs:
                ds = run_input.dataset
                conn.execute(
                    self._insert(datasets)
                    .values(
                        experiment_id=experiment_id,
                        name=ds.name,
                        digest=ds.digest,
                        source_type=ds.source_type,
                        source=ds.source,
                        schema=orjson.dumps(ds.schema).decode(),
                        profile=orjson.dumps(ds.profile).decode(),
                    )
                    .on_conflict_do_nothing()
                )
                dataset_id = conn.execute(
                    select(datasets.c.dataset_id).where(
                        datasets.c.experiment_id == experiment_id,
                        datasets.c.name == ds.name,
                        datasets.c.digest == ds.digest,
                    )
                ).scalar_one()
                conn.execute(
                    self._insert(run_inputs)
                    .values(run_id=run_id, dataset_id=dataset_id, context=run_input.context)
                    .on_conflict_do_nothing()
                )

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> Page[Run]:
        keys = [_experiment_key(e) for e in experiment_ids]
        fingerprint = query_fingerprint("runs", keys, repr(filter_expr), repr(order_by), view.value)
        remaining, metric_filters = split_order_metric_filters(filter_expr, order_by)
        query = select(*runs.c).where(
            runs.c.experiment_id.in_(keys),
            runs.c.lifecycle_stage.in_(view.stages()),
            compile_filter(remaining, self.dialect),
        )
        query, order = apply_order(query, order_by, self.dialect, metric_filters)
        if page_token:
            query = query.where(keyset_after(order, decode_token(page_token, fingerprint)))
        query = query.limit(max_results + 1)
        with self._engines.reader.connect() as conn:
            rows = conn.execute(query).all()
            token = None
            if len(rows) > max_results:
                rows = rows[:max_results]
                last = rows[-1]._mapping
                token = encode_token(fingerprint, [last[c.label] for c in order])
            return Page(load_runs(conn, rows), token)


def _experiment_key(experiment_id: str) -> int:
    try:
        key = int(experiment_id)
    except (TypeError, ValueError):
        raise NotFound(f"no experiment with id {experiment_id!r}") from None
    if not 0 <= key < 2**63:  # ids are 64-bit: anything else cannot name an experiment
        raise NotFound(f"no experiment with id {experiment_id!r}")
    return key


def _register_sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("heron_to_float", 1, _to_float, deterministic=True)
    # SQLite's LIKE ignores case by default; the search language's LIKE must not.
    dbapi_connection.execute("PRAGMA case_sensitive_like=ON")
