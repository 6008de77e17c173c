"""Registry rows to entities, and the search language compiled over registry tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    exists,
    func,
    not_,
    or_,
    select,
    tuple_,
)

from heron.entities import LifecycleStage
from heron.entities.registry import (
    AuditEvent,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RequestStatus,
    Stage,
    TransitionRequest,
)
from heron.errors import InvalidArgument
from heron.search.ast import And, Comparison, Expr, Not, Or, OrderKey
from heron.store.registry_base import Change, NewVersion
from heron.store.registry_schema import (
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
    registry_audit,
)
from heron.store.sql_search import apply_operator

MODEL_COLUMNS: dict[str, Any] = {
    "name": registered_models.c.name,
    "description": registered_models.c.description,
    "owner": registered_models.c.owner,
    "created_time": registered_models.c.created_time,
    "updated_time": registered_models.c.updated_time,
}

VERSION_COLUMNS: dict[str, Any] = {
    "name": registered_models.c.name,
    "version": model_versions.c.version,
    "run_id": model_versions.c.run_id,
    "source": model_versions.c.source,
    "status": model_versions.c.status,
    "stage": model_versions.c.stage,
    "created_by": model_versions.c.created_by,
    "description": model_versions.c.description,
    "created_time": model_versions.c.created_time,
    "updated_time": model_versions.c.updated_time,
}


def compile_registry_filter(
    expr: Expr, columns: dict[str, Any], tag_match: ColumnElement[bool], tags: Table
) -> ColumnElement[bool]:
    """SQL for a filter over models (or versions): attributes are columns, ``tags.*`` an
    EXISTS on the tag table joined by ``tag_match``."""
    if isinstance(expr, And):
        return and_(*(compile_registry_filter(e, columns, tag_match, tags) for e in expr.operands))
    if isinstance(expr, Or):
        return or_(*(compile_registry_filter(e, columns, tag_match, tags) for e in expr.operands))
    if isinstance(expr, Not):
        return not_(compile_registry_filter(expr.operand, columns, tag_match, tags))
    return _comparison(expr, columns, tag_match, tags)


def _comparison(
    comparison: Comparison, columns: dict[str, Any], tag_match: ColumnElement[bool], tags: Table
) -> ColumnElement[bool]:
    value = comparison.value
    if comparison.left.kind == "tag":
        base = and_(tag_match, tags.c.key == comparison.left.key)
        if comparison.op == "IS NULL":
            return not_(exists().where(base))
        if comparison.op == "IS NOT NULL":
            return exists().where(base)
        text = tuple(str(v) for v in value) if isinstance(value, tuple) else str(value)
        return exists().where(base, apply_operator(tags.c.value, comparison.op, text))
    column = columns[comparison.left.key]
    if comparison.op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    if comparison.op == "IS NOT NULL":
        return column.is_not(None)  # type: ignore[no-any-return]
    if comparison.left.key == "stage":
        # Stages are a closed set; accept any case, as MLflow does.
        value = _canonical_stages(value)
    return apply_operator(column, comparison.op, value)


def _canonical_stages(value: Any) -> Any:
    def one(text: Any) -> str:
        try:
            return Stage.parse(str(text)).value
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from exc

    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)


def order_clauses(
    order_by: Sequence[OrderKey], columns: dict[str, Any], defaults: Sequence[Any]
) -> list[Any]:
    clauses: list[Any] = []
    for key in order_by:
        if key.identifier.kind != "attribute":
            raise InvalidArgument(
                f"cannot order by {key.identifier.kind}s.{key.identifier.key}; order by an "
                f"attribute: {', '.join(sorted(columns))}"
            )
        column = columns[key.identifier.key]
        clauses.append(column.desc() if key.descending else column.asc())
    return clauses + list(defaults)


def lifecycle_filter(column: Any, stages: tuple[str, ...]) -> ColumnElement[bool]:
    return column.in_(stages)  # type: ignore[no-any-return]


def load_models(connection: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    ids = [row.model_id for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    aliases: dict[int, dict[str, int]] = defaultdict(dict)
    latest: dict[int, int] = {}
    if ids:
        for model_id, key, value in connection.execute(
            select(
                registered_model_tags.c.model_id,
                registered_model_tags.c.key,
                registered_model_tags.c.value,
            ).where(registered_model_tags.c.model_id.in_(ids))
        ):
            tags[model_id][key] = value
        for model_id, alias, version in connection.execute(
            select(model_aliases.c.model_id, model_aliases.c.alias, model_aliases.c.version)
            .where(model_aliases.c.model_id.in_(ids))
            .order_by(model_aliases.c.alias)
        ):
            aliases[model_id][alias] = version
        for model_id, version in connection.execute(
            select(model_versions.c.model_id, func.max(model_versions.c.version))
            .where(
                model_versions.c.model_id.in_(ids),
                model_versions.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
            )
            .group_by(model_versions.c.model_id)
        ):
            latest[model_id] = version
    return [
        RegisteredModel(
            name=row.name,
            description=row.description,
            owner=row.owner,
            created_at=row.created_time,
            updated_at=row.updated_time,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            tags=tags[row.model_id],
            aliases=aliases[row.model_id],
            protected_aliases=tuple(orjson.loads(row.protected_aliases)),
            allow_self_approval=bool(row.allow_self_approval),
            latest_version=latest.get(row.model_id),
            label_revision=row.label_revision,
        )
        for row in rows
    ]


def version_query() -> Select[Any]:
    """Version rows with their model's name (versions are stored by model id)."""
    return select(model_versions, registered_models.c.name).join(
        registered_models, registered_models.c.model_id == model_versions.c.model_id
    )


_VERSIONS_PER_LOOKUP = 400


def active_version_query(name: str, alias: str | None, version: int | None) -> Select[Any]:
    """The version of active model ``name`` that an alias, a number or (with neither) the
    word latest names, as one query: resolving ``models:/`` URIs is on every load and
    every serving poll, and a query per step cost several round trips on PostgreSQL."""
    active = LifecycleStage.ACTIVE.value
    query = version_query().where(
        registered_models.c.name == name, registered_models.c.lifecycle_stage == active
    )
    if alias is not None:
        return query.join(
            model_aliases,
            and_(
                model_aliases.c.model_id == model_versions.c.model_id,
                model_aliases.c.version == model_versions.c.version,
            ),
        ).where(model_aliases.c.alias == alias)
    query = query.where(model_versions.c.lifecycle_stage == active)
    if version is not None:
        return query.where(model_versions.c.version == version)
    return query.order_by(model_versions.c.version.desc()).limit(1)


def load_versions(connection: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    keys = sorted({(row.model_id, row.version) for row in rows})
    tags: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    aliases: dict[tuple[int, int], list[str]] = defaultdict(list)
    # Tags and aliases of exactly these versions, in chunks: two bound parameters a
    # version, and a search page may hold up to MAX_RESULTS versions (SQLite builds before
    # 3.32 cap a statement at 999 parameters).
    for start in range(0, len(keys), _VERSIONS_PER_LOOKUP):
        chunk = keys[start : start + _VERSIONS_PER_LOOKUP]
        for model_id, version, key, value in connection.execute(
            select(
                model_version_tags.c.model_id,
                model_version_tags.c.version,
                model_version_tags.c.key,
                model_version_tags.c.value,
            ).where(tuple_(model_version_tags.c.model_id, model_version_tags.c.version).in_(chunk))
        ):
            tags[(model_id, version)][key] = value
        for model_id, version, alias in connection.execute(
            select(model_aliases.c.model_id, model_aliases.c.version, model_aliases.c.alias)
            .where(tuple_(model_aliases.c.model_id, model_aliases.c.version).in_(chunk))
            .order_by(model_aliases.c.alias)
        ):
            aliases[(model_id, version)].append(alias)
    return [
        ModelVersion(
            name=row.name,
            version=row.version,
            source=row.source,
            run_id=row.run_id,
            artifact_path=row.artifact_path,
            status=ModelVersionStatus(row.status),
            created_at=row.created_time,
            updated_at=row.updated_time,
            created_by=row.created_by,
            description=row.description,
            status_message=row.status_message,
            stage=Stage(row.stage),
            signature=row.signature,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            tags=tags[(row.model_id, row.version)],
            aliases=tuple(aliases[(row.model_id, row.version)]),
        )
        for row in rows
    ]


def written_version(name: str, version: int, new: NewVersion, change: Change) -> ModelVersion:
    """Version ``version`` of model ``name`` as ``new`` and ``change`` just wrote it. A new
    number has no aliases: numbers are never reused, deleted versions included."""
    return ModelVersion(
        name=name,
        version=version,
        source=new.source,
        run_id=new.run_id,
        artifact_path=new.artifact_path,
        status=new.status,
        created_at=change.now,
        updated_at=change.now,
        created_by=change.actor,
        description=new.description,
        signature=new.signature,
        tags=dict(new.tags),
    )


def request_from_row(row: Row[Any]) -> TransitionRequest:
    return TransitionRequest(
        id=row.request_id,
        name=row.name,
        version=row.version,
        target=row.target,
        status=RequestStatus(row.status),
        requested_by=row.requested_by,
        created_at=row.created_time,
        comment=row.comment,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_time,
        resolution_comment=row.resolution_comment,
    )


def audit_from_row(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        id=row.event_id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        model=row.model_name,
        version=row.version,
        before=orjson.loads(row.before) if row.before is not None else None,
        after=orjson.loads(row.after) if row.after is not None else None,
        reason=row.reason,
        outcome=row.outcome,
    )


def audit_row(
    action: str,
    model_id: int | None,
    model_name: str | None,
    version: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: str,
    at: int,
    reason: str,
    outcome: str = "ok",
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "model_id": model_id,
        "model_name": model_name,
        "version": version,
        "before": orjson.dumps(before).decode() if before is not None else None,
        "after": orjson.dumps(after).decode() if after is not None else None,
        "reason": reason,
        "outcome": outcome,
    }


AUDIT_INSERT = registry_audit.insert()
