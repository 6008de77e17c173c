"""Heron's registry and logged-model entities as MLflow's JSON.

MLflow sends and shows version numbers as strings, calls a version's author ``user_id``
and its stage ``current_stage``, and spells statuses with its own enum names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from heron.entities.logged_model import LoggedModel, LoggedModelStatus, ModelMetric
from heron.entities.registry import ModelVersion, ModelVersionStatus, RegisteredModel
from heron.entities.wire import number_to_json
from heron.server.mlflow_compat.wire import ArtifactUris
from heron.services.logged_models import is_logged_model_id

_VERSION_STATUS = {
    ModelVersionStatus.PENDING_REGISTRATION: "PENDING_REGISTRATION",
    ModelVersionStatus.READY: "READY",
    ModelVersionStatus.FAILED: "FAILED_REGISTRATION",
}

LOGGED_MODEL_STATUS = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
# Proto numbers too: a client may send the enum's number instead of its name.
LOGGED_MODEL_STATUS_BY_NAME = {
    **{name: status for status, name in LOGGED_MODEL_STATUS.items()},
    "1": LoggedModelStatus.PENDING,
    "2": LoggedModelStatus.READY,
    "3": LoggedModelStatus.FAILED,
}


def _pairs(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def logged_model_id_of(source: str) -> str | None:
    rest = source.removeprefix("models:/").strip("/") if source.startswith("models:/") else ""
    return rest if is_logged_model_id(rest) else None


def model_version_json(version: ModelVersion, uris: ArtifactUris) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
        "user_id": version.created_by,
        "current_stage": version.stage.value,
        "description": version.description,
        "source": uris.to_mlflow(version.source),
        "status": _VERSION_STATUS[version.status],
        "tags": _pairs(version.tags),
        "aliases": list(version.aliases),
    }
    if version.run_id:
        body["run_id"] = version.run_id
    if version.status_message:
        body["status_message"] = version.status_message
    model_id = logged_model_id_of(version.source)
    if model_id:
        body["model_id"] = model_id
    return body


def registered_model_json(
    model: RegisteredModel, latest: Iterable[ModelVersion], uris: ArtifactUris
) -> dict[str, Any]:
    return {
        "name": model.name,
        "creation_timestamp": model.created_at,
        "last_updated_timestamp": model.updated_at,
        "user_id": model.owner,
        "description": model.description,
        "latest_versions": [model_version_json(v, uris) for v in latest],
        "tags": _pairs(model.tags),
        "aliases": [
            {"alias": alias, "version": str(version)}
            for alias, version in sorted(model.aliases.items())
        ],
    }


def logged_model_json(model: LoggedModel, uris: ArtifactUris) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": model.id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.created_at,
        "last_updated_timestamp_ms": model.updated_at,
        "artifact_uri": uris.to_mlflow(model.artifact_location),
        "status": LOGGED_MODEL_STATUS[model.status],
        "model_type": model.model_type,
        "tags": _pairs(model.tags),
    }
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    if model.status_message:
        info["status_message"] = model.status_message
    metrics = [_model_metric_json(model.id, point) for point in model.metrics]
    return {"info": info, "data": {"params": _pairs(model.params), "metrics": metrics}}


def _model_metric_json(model_id: str, point: ModelMetric) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": point.key,
        "value": number_to_json(point.value),
        "timestamp": point.timestamp,
        "step": point.step,
        "model_id": model_id,
    }
    for name in ("run_id", "dataset_name", "dataset_digest"):
        if getattr(point, name):
            body[name] = getattr(point, name)
    return body
