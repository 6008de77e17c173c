"""The model registry on SQLAlchemy Core, in the tracking store's database.

Every write locks its model's row first (SELECT ... FOR UPDATE on PostgreSQL; SQLite
holds the single write lock from BEGIN IMMEDIATE), so version numbers and label moves
of one model are serialized without a retry loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Row, Table, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities import Dataset, LifecycleStage, Page
from heron.entities.registry import (
    AuditEvent,
    LabelChange,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RemoveAlias,
    RequestStatus,
    Role,
    SetAlias,
    SetStage,
    Stage,
    TransitionRequest,
)
from heron.errors import AlreadyExists, Conflict, NotFound
from heron.search.ast import Expr, OrderKey
from heron.store.base import ViewType
from heron.store.engine import Engines
from heron.store.registry_base import Change, NewVersion, RegistryStore, RunDataset
from heron.store.registry_schema import (
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
    registry_audit,
    registry_roles,
    transition_requests,
)
from heron.store.schema import datasets, run_inputs
from heron.store.sql_registry_rows import (
    AUDIT_INSERT,
    MODEL_COLUMNS,
    VERSION_COLUMNS,
    active_version_query,
    audit_from_row,
    audit_row,
    compile_registry_filter,
    load_models,
    load_versions,
    order_clauses,
    request_from_row,
    version_query,
    written_version,
)
from heron.store.sql_search import decode_token, encode_token, query_fingerprint

T = TypeVar("T")


class SqlRegistryStore(RegistryStore):
    def __init__(self, engines: Engines) -> None:
        """Use the engines of an open ``SqlTrackingStore``, which owns the schema."""
        self._engines = engines

    # -- plumbing ----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engines.writer.begin() as conn:
            yield conn
        self._engines.committed()

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self._engines.reader.connect() as conn:
            return work(conn)

    @staticmethod
    def _model_row(conn: Connection, name: str, *, lock: bool = False) -> Row[Any]:
        query = select(registered_models).where(registered_models.c.name == name)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return row

    @staticmethod
    def _version_row(conn: Connection, model_id: int, name: str, version: int) -> Row[Any]:
        row = conn.execute(
            version_query().where(
                model_versions.c.model_id == model_id, model_versions.c.version == version
            )
        ).first()
        if row is None:
            raise NotFound(f"model {name!r} has no version {version}")
        return row

    @staticmethod
    def _audit(
        conn: Connection,
        change: Change,
        action: str,
        model: Row[Any] | None,
        version: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            AUDIT_INSERT,
            audit_row(
                action,
                model.model_id if model is not None else None,
                model.name if model is not None else None,
                version,
                before,
                after,
                change.actor,
                change.now,
                change.reason,
            ),
        )

    @staticmethod
    def _replace_tag(
        conn: Connection, table: Table, row: dict[str, Any], value: str | None
    ) -> str | None:
        """Set the tag ``row`` names to ``value`` (None deletes it); return its old value."""
        match = and_(*(table.c[column] == v for column, v in row.items()))
        before: str | None = conn.execute(select(table.c.value).where(match)).scalar_one_or_none()
        conn.execute(delete(table).where(match))
        if value is not None:
            conn.execute(insert(table).values(**row, value=value))
        return before

    def _touch(self, conn: Connection, model: Row[Any], now: int) -> None:
        conn.execute(
            update(registered_models)
            .where(registered_models.c.model_id == model.model_id)
            .values(updated_time=now)
        )

    # -- registered models -------------------------------------------------------------

    def create_model(
        self, name: str, description: str, tags: dict[str, str], change: Change
    ) -> RegisteredModel:
        try:
            with self._write() as conn:
                model_id = conn.execute(
                    insert(registered_models)
                    .values(
                        name=name,
                        description=description,
                        owner=change.actor,
                        created_time=change.now,
                        updated_time=change.now,
                        lifecycle_stage=LifecycleStage.ACTIVE.value,
                        label_revision=0,
                        protected_aliases="[]",
                        allow_self_approval=False,
                    )
                    .returning(registered_models.c.model_id)
                ).scalar_one()
                if tags:
                    conn.execute(
                        insert(registered_model_tags),
                        [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()],
                    )
                model = self._model_row(conn, name)
                after = {"name": name, "description": description, "tags": tags}
                self._audit(conn, change, "model.create", model, after=after)
                return load_models(conn, [model])[0]
        except IntegrityError as exc:
            raise AlreadyExists(
                f"registered model {name!r} already exists; register a new version of it "
                "or choose another name"
            ) from exc

    def get_model(self, name: str) -> RegisteredModel:
        def work(conn: Connection) -> RegisteredModel:
            return load_models(conn, [self._model_row(conn, name)])[0]

        return self._read(work)

    def update_model(
        self,
        name: str,
        change: Change,
        *,
        new_name: str | None = None,
        description: str | None = None,
        lifecycle: LifecycleStage | None = None,
        protected_aliases: Sequence[str] | None = None,
        allow_self_approval: bool | None = None,
    ) -> RegisteredModel:
        fields: list[tuple[str, str, Any, Any]] = []  # (action, column, stored, shown)
        if new_name is not None:
            fields.append(("model.rename", "name", new_name, new_name))
        if description is not None:
            fields.append(("model.update", "description", description, description))
        if lifecycle is not None:
            action = "model.delete" if lifecycle is LifecycleStage.DELETED else "model.restore"
            fields.append((action, "lifecycle_stage", lifecycle.value, lifecycle.value))
        if protected_aliases is not None:
            stored = orjson.dumps(sorted(set(protected_aliases))).decode()
            fields.append(("model.policy", "protected_aliases", stored, sorted(protected_aliases)))
        if allow_self_approval is not None:
            fields.append(
                ("model.policy", "allow_self_approval", allow_self_approval, allow_self_approval)
            )
        try:
            with self._write() as conn:
                model = self._model_row(conn, name, lock=True)
                values: dict[str, Any] = {"updated_time": change.now}
                for action, column, stored, shown in fields:
                    before = model._mapping[column]
                    if column == "protected_aliases":
                        before = orjson.loads(before)
                    values[column] = stored
                    self._audit(
                        conn, change, action, model, None, {column: before}, {column: shown}
                    )
                conn.execute(
                    update(registered_models)
                    .where(registered_models.c.model_id == model.model_id)
                    .values(**values)
                )
                row = self._model_row(conn, new_name or name)
                return load_models(conn, [row])[0]
        except IntegrityError as exc:
            raise AlreadyExists(f"registered model {new_name!r} already exists") from exc

    def set_model_tag(self, name: str, key: str, value: str | None, change: Change) -> None:
        with self._write() as conn:
            model = self._model_row(conn, name, lock=True)
            row = {"model_id": model.model_id, "key": key}
            before = self._replace_tag(conn, registered_model_tags, row, value)
            self._touch(conn, model, change.now)
            action = "model.tag.set" if value is not None else "model.tag.delete"
            self._audit(conn, change, action, model, None, {key: before}, {key: value})

    def search_models(
        self,
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> Page[RegisteredModel]:
        query = select(registered_models).where(
            registered_models.c.lifecycle_stage.in_(view.stages())
        )
        if filter_expr is not None:
            tag_match = registered_model_tags.c.model_id == registered_models.c.model_id
            query = query.where(
                compile_registry_filter(
                    filter_expr, MODEL_COLUMNS, tag_match, registered_model_tags
                )
            )
        order = order_clauses(order_by, MODEL_COLUMNS, [registered_models.c.name.asc()])
        return self._paged(
            query.order_by(*order),
            filter_expr,
            order_by,
            view,
            max_results,
            page_token,
            load_models,
        )

    def _paged(
        self,
        query: Any,
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
        load: Callable[[Connection, Sequence[Row[Any]]], list[T]],
    ) -> Page[T]:
        # Offset paging: registries hold thousands of models, not millions, and an
        # offset keeps tokens valid across every order the search language allows.
        fingerprint = query_fingerprint("registry", repr(filter_expr), repr(order_by), view.value)
        offset = int(decode_token(page_token, fingerprint)[0]) if page_token else 0

        def work(conn: Connection) -> Page[T]:
            rows = conn.execute(query.limit(max_results + 1).offset(offset)).all()
            items = load(conn, rows[:max_results])
            more = len(rows) > max_results
            token = encode_token(fingerprint, [offset + max_results]) if more else None
            return Page(items, token)

        return self._read(work)

    # -- versions ----------------------------------------------------------------------

    def create_version(self, name: str, new: NewVersion, change: Change) -> ModelVersion:
        with self._write() as conn:
            model = self._model_row(conn, name, lock=True)
            last = conn.execute(
                select(func.max(model_versions.c.version)).where(
                    model_versions.c.model_id == model.model_id
                )
            ).scalar_one()
            version = (last or 0) + 1
            conn.execute(
                insert(model_versions).values(
                    model_id=model.model_id,
                    version=version,
                    source=new.source,
                    run_id=new.run_id,
                    artifact_path=new.artifact_path,
                    status=new.status.value,
                    status_message="",
                    description=new.description,
                    stage=Stage.NONE.value,
                    signature=new.signature,
                    created_by=change.actor,
                    created_time=change.now,
                    updated_time=change.now,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                )
            )
            if new.tags:
                conn.execute(
                    insert(model_version_tags),
                    [
                        {"model_id": model.model_id, "version": version, "key": k, "value": v}
                        for k, v in new.tags.items()
                    ],
                )
            self._touch(conn, model, change.now)
            after = {"source": new.source, "run_id": new.run_id, "status": new.status.value}
            self._audit(conn, change, "version.create", model, version, None, after)
        # What was just written, not read back: three fewer round trips on PostgreSQL.
        return written_version(model.name, version, new, change)

    def get_version(self, name: str, version: int) -> ModelVersion:
        def work(conn: Connection) -> ModelVersion:
            model = self._model_row(conn, name)
            return load_versions(conn, [self._version_row(conn, model.model_id, name, version)])[0]

        return self._read(work)

    def find_active_version(
        self, name: str, *, alias: str | None = None, version: int | None = None
    ) -> ModelVersion | None:
        def work(conn: Connection) -> ModelVersion | None:
            row = conn.execute(active_version_query(name, alias, version)).first()
            return None if row is None else load_versions(conn, [row])[0]

        return self._read(work)

    def update_version(
        self,
        name: str,
        version: int,
        change: Change,
        *,
        description: str | None = None,
        status: ModelVersionStatus | None = None,
        status_message: str | None = None,
        lifecycle: LifecycleStage | None = None,
    ) -> ModelVersion:
        with self._write() as conn:
            model = self._model_row(conn, name, lock=True)
            row = self._version_row(conn, model.model_id, name, version)
            values: dict[str, Any] = {"updated_time": change.now}
            changed: list[tuple[str, str, Any]] = []
            if description is not None:
                changed.append(("version.update", "description", description))
            if status is not None:
                changed.append(("version.status", "status", status.value))
            if status_message is not None:
                changed.append(("version.status", "status_message", status_message))
            if lifecycle is not None:
                action = (
                    "version.delete" if lifecycle is LifecycleStage.DELETED else "version.restore"
                )
                changed.append((action, "lifecycle_stage", lifecycle.value))
                if lifecycle is LifecycleStage.DELETED:
                    self._drop_aliases_of(conn, model, version, change)
            for action, column, value in changed:
                values[column] = value
                before = {column: row._mapping[column]}
                self._audit(conn, change, action, model, version, before, {column: value})
            conn.execute(
                update(model_versions)
                .where(
                    model_versions.c.model_id == model.model_id,
                    model_versions.c.version == version,
                )
                .values(**values)
            )
            self._touch(conn, model, change.now)
            return load_versions(conn, [self._version_row(conn, model.model_id, name, version)])[0]

    def _drop_aliases_of(
        self, conn: Connection, model: Row[Any], version: int, change: Change
    ) -> None:
        """A deleted version keeps no aliases: an alias must always name a live version."""
        match = and_(model_aliases.c.model_id == model.model_id, model_aliases.c.version == version)
        for (alias,) in conn.execute(select(model_aliases.c.alias).where(match)):
            before = {"alias": alias, "version": version}
            self._audit(conn, change, "alias.remove", model, version, before, None)
        conn.execute(delete(model_aliases).where(match))

    def set_version_tag(
        self, name: str, version: int, key: str, value: str | None, change: Change
    ) -> None:
        with self._write() as conn:
            model = self._model_row(conn, name, lock=True)
            self._version_row(conn, model.model_id, name, version)
            row = {"model_id": model.model_id, "version": version, "key": key}
            before = self._replace_tag(conn, model_version_tags, row, value)
            self._touch(conn, model, change.now)
            action = "version.tag.set" if value is not None else "version.tag.delete"
            self._audit(conn, change, action, model, version, {key: before}, {key: value})

    def search_versions(
        self,
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> Page[ModelVersion]:
        query = version_query().where(model_versions.c.lifecycle_stage.in_(view.stages()))
        if filter_expr is not None:
            tag_match = and_(
                model_version_tags.c.model_id == model_versions.c.model_id,
                model_version_tags.c.version == model_versions.c.version,
            )
            query = query.where(
                compile_registry_filter(filter_expr, VERSION_COLUMNS, tag_match, model_version_tags)
            )
        defaults = [registered_models.c.name.asc(), model_versions.c.version.desc()]
        order = order_clauses(order_by, VERSION_COLUMNS, defaults)
        return self._paged(
            query.order_by(*order),
            filter_expr,
            order_by,
            view,
            max_results,
            page_token,
            load_versions,
        )

    # -- aliases and stages ------------------------------------------------------------

    def move_labels(
        self,
        name: str,
        moves: Sequence[LabelChange],
        change: Change,
        expected_revision: int | None = None,
    ) -> RegisteredModel:
        with self._write() as conn:
            model = self._model_row(conn, name, lock=True)
            if expected_revision is not None and model.label_revision != expected_revision:
                raise Conflict(
                    f"the aliases of {name!r} changed since you read them (revision "
                    f"{model.label_revision}, you expected {expected_revision}); read the "
                    "model again and retry"
                )
            self._apply_moves(conn, model, moves, change)
            return load_models(conn, [self._model_row(conn, name)])[0]

    def _apply_moves(
        self, conn: Connection, model: Row[Any], moves: Sequence[LabelChange], change: Change
    ) -> None:
        for move in moves:
            if isinstance(move, SetAlias):
                self._set_alias(conn, model, move, change)
            elif isinstance(move, RemoveAlias):
                self._remove_alias(conn, model, move, change)
            else:
                self._set_stage(conn, model, move, change)
        conn.execute(
            update(registered_models)
            .where(registered_models.c.model_id == model.model_id)
            .values(label_revision=registered_models.c.label_revision + 1, updated_time=change.now)
        )

    def _live_version(self, conn: Connection, model: Row[Any], version: int) -> Row[Any]:
        row = self._version_row(conn, model.model_id, model.name, version)
        if row.lifecycle_stage != LifecycleStage.ACTIVE.value:
            raise NotFound(f"version {version} of {model.name!r} is deleted; restore it first")
        return row

    def _set_alias(self, conn: Connection, model: Row[Any], move: SetAlias, change: Change) -> None:
        self._live_version(conn, model, move.version)
        match = and_(
            model_aliases.c.model_id == model.model_id, model_aliases.c.alias == move.alias
        )
        old = conn.execute(select(model_aliases.c.version).where(match)).scalar_one_or_none()
        conn.execute(delete(model_aliases).where(match))
        conn.execute(
            insert(model_aliases).values(
                model_id=model.model_id, alias=move.alias, version=move.version
            )
        )
        before = {"alias": move.alias, "version": old}
        after = {"alias": move.alias, "version": move.version}
        self._audit(conn, change, "alias.set", model, move.version, before, after)

    def _remove_alias(
        self, conn: Connection, model: Row[Any], move: RemoveAlias, change: Change
    ) -> None:
        match = and_(
            model_aliases.c.model_id == model.model_id, model_aliases.c.alias == move.alias
        )
        old = conn.execute(select(model_aliases.c.version).where(match)).scalar_one_or_none()
        if old is None:
            raise NotFound(f"model {model.name!r} has no alias {move.alias!r}")
        conn.execute(delete(model_aliases).where(match))
        before = {"alias": move.alias, "version": old}
        self._audit(conn, change, "alias.remove", model, old, before, None)

    def _set_stage(self, conn: Connection, model: Row[Any], move: SetStage, change: Change) -> None:
        row = self._live_version(conn, model, move.version)
        targets = [(move.version, row.stage, move.stage)]
        if move.archive_existing and move.stage in (Stage.STAGING, Stage.PRODUCTION):
            others = conn.execute(
                select(model_versions.c.version).where(
                    model_versions.c.model_id == model.model_id,
                    model_versions.c.stage == move.stage.value,
                    model_versions.c.version != move.version,
                )
            ).scalars()
            targets += [(other, move.stage.value, Stage.ARCHIVED) for other in others]
        for version, old, new in targets:
            conn.execute(
                update(model_versions)
                .where(
                    model_versions.c.model_id == model.model_id,
                    model_versions.c.version == version,
                )
                .values(stage=new.value, updated_time=change.now)
            )
            before = {"version": version, "stage": old}
            after = {"version": version, "stage": new.value}
            self._audit(conn, change, "stage.set", model, version, before, after)

    # -- transition requests -----------------------------------------------------------

    @staticmethod
    def _request_query() -> Any:
        return select(transition_requests, registered_models.c.name).join(
            registered_models, registered_models.c.model_id == transition_requests.c.model_id
        )

    def create_request(
        self, name: str, version: int, target: str, comment: str, change: Change
    ) -> TransitionRequest:
        with self._write() as conn:
            model = self._model_row(conn, name, lock=True)
            self._live_version(conn, model, version)
            request_id = conn.execute(
                insert(transition_requests)
                .values(
                    model_id=model.model_id,
                    version=version,
                    target=target,
                    status=RequestStatus.OPEN.value,
                    requested_by=change.actor,
                    created_time=change.now,
                    comment=comment,
                    resolution_comment="",
                )
                .returning(transition_requests.c.request_id)
            ).scalar_one()
            after = {"request": request_id, "target": target, "comment": comment}
            self._audit(conn, change, "request.create", model, version, None, after)
            row = conn.execute(
                self._request_query().where(transition_requests.c.request_id == request_id)
            ).one()
            return request_from_row(row)

    def get_request(self, request_id: int) -> TransitionRequest:
        def work(conn: Connection) -> TransitionRequest:
            row = conn.execute(
                self._request_query().where(transition_requests.c.request_id == request_id)
            ).first()
            if row is None:
                raise NotFound(f"transition request {request_id} does not exist")
            return request_from_row(row)

        return self._read(work)

    def list_requests(
        self, name: str | None, status: RequestStatus | None
    ) -> list[TransitionRequest]:
        query = self._request_query().order_by(transition_requests.c.request_id)
        if name is not None:
            query = query.where(registered_models.c.name == name)
        if status is not None:
            query = query.where(transition_requests.c.status == status.value)
        return self._read(lambda conn: [request_from_row(r) for r in conn.execute(query)])

    def resolve_request(
        self,
        request_id: int,
        status: RequestStatus,
        comment: str,
        change: Change,
        moves: Sequence[LabelChange] = (),
    ) -> TransitionRequest:
        with self._write() as conn:
            current = conn.execute(
                self._request_query().where(transition_requests.c.request_id == request_id)
            ).first()
            if current is None:
                raise NotFound(f"transition request {request_id} does not exist")
            model = self._model_row(conn, current.name, lock=True)
            resolved = conn.execute(
                update(transition_requests)
                .where(
                    transition_requests.c.request_id == request_id,
                    transition_requests.c.status == RequestStatus.OPEN.value,
                )
                .values(
                    status=status.value,
                    resolved_by=change.actor,
                    resolved_time=change.now,
                    resolution_comment=comment,
                )
            ).rowcount
            if resolved != 1:
                state = conn.execute(
                    select(transition_requests.c.status).where(
                        transition_requests.c.request_id == request_id
                    )
                ).scalar_one()
                raise Conflict(f"transition request {request_id} is already {state}")
            action = {
                RequestStatus.APPROVED: "request.approve",
                RequestStatus.REJECTED: "request.reject",
                RequestStatus.CANCELLED: "request.cancel",
            }[status]
            before = {"request": request_id, "status": RequestStatus.OPEN.value}
            after = {"request": request_id, "status": status.value, "comment": comment}
            self._audit(conn, change, action, model, current.version, before, after)
            if moves:
                self._apply_moves(conn, model, moves, change)
            row = conn.execute(
                self._request_query().where(transition_requests.c.request_id == request_id)
            ).one()
            return request_from_row(row)

    # -- audit -------------------------------------------------------------------------

    def record_refusal(
        self,
        action: str,
        model: str | None,
        version: int | None,
        attempted: Mapping[str, object],
        why: str,
        change: Change,
    ) -> None:
        with self._write() as conn:
            model_id = None
            if model is not None:
                model_id = conn.execute(
                    select(registered_models.c.model_id).where(registered_models.c.name == model)
                ).scalar_one_or_none()
            conn.execute(
                AUDIT_INSERT,
                audit_row(
                    action,
                    model_id,
                    model,
                    version,
                    None,
                    dict(attempted),
                    change.actor,
                    change.now,
                    change.reason,
                    outcome=f"refused: {why}",
                ),
            )

    def audit_events(
        self, name: str | None, after_id: int = 0, limit: int = 1000
    ) -> list[AuditEvent]:
        def work(conn: Connection) -> list[AuditEvent]:
            query = (
                select(registry_audit)
                .where(registry_audit.c.event_id > after_id)
                .order_by(registry_audit.c.event_id)
                .limit(limit)
            )
            if name is not None:
                model = self._model_row(conn, name)
                query = query.where(registry_audit.c.model_id == model.model_id)
            return [audit_from_row(row) for row in conn.execute(query)]

        return self._read(work)

    # -- roles -------------------------------------------------------------------------

    def set_role(self, user: str, role: Role, granted: bool, change: Change) -> None:
        with self._write() as conn:
            match = and_(registry_roles.c.user_name == user, registry_roles.c.role == role.value)
            had = conn.execute(select(registry_roles.c.role).where(match)).first() is not None
            conn.execute(delete(registry_roles).where(match))
            if granted:
                conn.execute(
                    insert(registry_roles).values(
                        user_name=user,
                        role=role.value,
                        granted_by=change.actor,
                        granted_time=change.now,
                    )
                )
            action = "role.grant" if granted else "role.revoke"
            before = {"user": user, "role": role.value, "held": had}
            after = {"user": user, "role": role.value, "held": granted}
            self._audit(conn, change, action, None, None, before, after)

    def roles_of(self, user: str) -> set[Role]:
        query = select(registry_roles.c.role).where(registry_roles.c.user_name == user)
        return self._read(lambda conn: {Role(r) for r in conn.execute(query).scalars()})

    def has_admin(self) -> bool:
        query = select(registry_roles.c.user_name).where(registry_roles.c.role == Role.ADMIN.value)
        return self._read(lambda conn: conn.execute(query.limit(1)).first() is not None)

    # -- lineage -----------------------------------------------------------------------

    _DATASET_COLUMNS = (
        run_inputs.c.run_id,
        run_inputs.c.context,
        datasets.c.name,
        datasets.c.digest,
        datasets.c.source_type,
        datasets.c.source,
        datasets.c.schema,
        datasets.c.profile,
    )

    def _run_datasets(self, condition: Any) -> list[RunDataset]:
        query = (
            select(*self._DATASET_COLUMNS)
            .join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id)
            .where(condition)
            .order_by(run_inputs.c.run_id, datasets.c.name)
        )

        def work(conn: Connection) -> list[RunDataset]:
            return [
                RunDataset(
                    run_id=row.run_id,
                    context=row.context,
                    dataset=Dataset(
                        name=row.name,
                        digest=row.digest,
                        source_type=row.source_type,
                        source=row.source,
                        schema=orjson.loads(row.schema),
                        profile=orjson.loads(row.profile),
                    ),
                )
                for row in conn.execute(query)
            ]

        return self._read(work)

    def datasets_of_runs(self, run_ids: Sequence[str]) -> list[RunDataset]:
        if not run_ids:
            return []
        return self._run_datasets(run_inputs.c.run_id.in_(list(run_ids)))

    def runs_with_dataset(self, digest: str, name: str | None = None) -> list[RunDataset]:
        condition = datasets.c.digest == digest
        if name is not None:
            condition = and_(condition, datasets.c.name == name)
        return self._run_datasets(condition)

    def versions_of_runs(self, run_ids: Sequence[str]) -> list[ModelVersion]:
        if not run_ids:
            return []
        query = (
            version_query()
            .where(model_versions.c.run_id.in_(list(run_ids)))
            .order_by(registered_models.c.name, model_versions.c.version)
        )
        return self._read(lambda conn: load_versions(conn, conn.execute(query).all()))
