"""The JSON wire format of Heron's native REST API, shared by the server and the HTTP client.

Plain dicts in and out (the caller chooses the JSON library). Times are integer
milliseconds since the epoch. JSON has no NaN or infinity, and metrics may hold them,
so numbers that are not finite travel as the strings "NaN", "Infinity", "-Infinity".
"""

from __future__ import annotations

import math
from typing import Any

from heron.entities.artifact import FileInfo
from heron.entities.experiment import Experiment
from heron.entities.lifecycle import LifecycleStage, RunStatus
from heron.entities.run import Dataset, Metric, Param, Run, RunInput, RunTag
from heron.entities.series import SeriesPage
from heron.errors import (
    AlreadyExists,
    Conflict,
    DataCorrupted,
    GateFailed,
    HeronError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    SearchSyntaxError,
    Unauthenticated,
)

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number_to_json(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def number_from_json(value: Any) -> float:
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        raise InvalidArgument(
            f"metric value {value!r} is not a number: send a JSON number, or one of the "
            'strings "NaN", "Infinity", "-Infinity"'
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"metric value {value!r} is not a number")
    return float(value)


def experiment_to_dict(experiment: Experiment) -> dict[str, Any]:
    return {
        "id": experiment.id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": dict(experiment.tags),
    }


def experiment_from_dict(data: dict[str, Any]) -> Experiment:
    return Experiment(
        id=str(data["id"]),
        name=data["name"],
        artifact_location=data["artifact_location"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        creation_time=int(data["creation_time"]),
        last_update_time=int(data["last_update_time"]),
        tags=dict(data.get("tags") or {}),
    )


def metric_to_dict(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": number_to_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def metric_from_dict(data: dict[str, Any]) -> Metric:
    value = data["value"]
    return Metric(
        key=data["key"],
        # A float is the common case: skip number_from_json's checks for it.
        value=value if type(value) is float else number_from_json(value),
        timestamp=data["timestamp"],
        step=data.get("step", 0),
    )


def series_to_dicts(page: SeriesPage) -> list[dict[str, Any]]:
    """``metric_to_dict`` of every point of the page, without a Metric per point."""
    key = page.key
    return [
        {
            "key": key,
            # x - x is 0.0 for every finite float, NaN for NaN and +/-inf.
            "value": value if value - value == 0.0 else number_to_json(value),
            "timestamp": timestamp,
            "step": step,
        }
        for step, timestamp, value in zip(page.steps, page.timestamps, page.values, strict=True)
    ]


def dataset_to_dict(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
        "schema": dataset.schema,
        "profile": dataset.profile,
    }


def dataset_from_dict(data: dict[str, Any]) -> Dataset:
    return Dataset(
        name=data["name"],
        digest=data["digest"],
        source_type=data.get("source_type", ""),
        source=data.get("source", ""),
        schema=dict(data.get("schema") or {}),
        profile=dict(data.get("profile") or {}),
    )


def run_input_to_dict(run_input: RunInput) -> dict[str, Any]:
    return {"dataset": dataset_to_dict(run_input.dataset), "context": run_input.context}


def run_input_from_dict(data: dict[str, Any]) -> RunInput:
    return RunInput(dataset_from_dict(data["dataset"]), data.get("context", ""))


def run_to_dict(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "experiment_id": run.experiment_id,
        "name": run.name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "user": run.user,
        "source": run.source,
        "git_commit": run.git_commit,
        "parent_run_id": run.parent_run_id,
        "lifecycle_stage": run.lifecycle_stage.value,
        "artifact_uri": run.artifact_uri,
        "params": dict(run.params),
        "metrics": {key: number_to_json(value) for key, value in run.metrics.items()},
        "tags": dict(run.tags),
        "inputs": [run_input_to_dict(i) for i in run.inputs],
    }


def run_from_dict(data: dict[str, Any]) -> Run:
    return Run(
        id=data["id"],
        experiment_id=str(data["experiment_id"]),
        name=data["name"],
        status=RunStatus(data["status"]),
        start_time=int(data["start_time"]),
        end_time=data.get("end_time"),
        user=data.get("user", ""),
        source=data.get("source", ""),
        git_commit=data.get("git_commit"),
        parent_run_id=data.get("parent_run_id"),
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        artifact_uri=data["artifact_uri"],
        params=dict(data.get("params") or {}),
        metrics={k: number_from_json(v) for k, v in (data.get("metrics") or {}).items()},
        tags=dict(data.get("tags") or {}),
        inputs=tuple(run_input_from_dict(i) for i in data.get("inputs") or ()),
    )


def param_to_dict(param: Param) -> dict[str, str]:
    return {"key": param.key, "value": param.value}


def param_from_dict(data: dict[str, Any]) -> Param:
    return Param(data["key"], str(data["value"]))


def tag_to_dict(tag: RunTag) -> dict[str, str]:
    return {"key": tag.key, "value": tag.value}


def tag_from_dict(data: dict[str, Any]) -> RunTag:
    return RunTag(data["key"], str(data["value"]))


def file_info_to_dict(info: FileInfo) -> dict[str, Any]:
    return {"path": info.path, "is_dir": info.is_dir, "size": info.size, "sha256": info.sha256}


def file_info_from_dict(data: dict[str, Any]) -> FileInfo:
    return FileInfo(data["path"], bool(data["is_dir"]), data.get("size"), data.get("sha256"))


# -- errors ------------------------------------------------------------------------------

# Wire code per error class; the server maps each to an HTTP status in one place.
ERROR_CODES: dict[type[HeronError], str] = {
    SearchSyntaxError: "SEARCH_SYNTAX_ERROR",
    InvalidArgument: "INVALID_ARGUMENT",
    NotFound: "NOT_FOUND",
    AlreadyExists: "ALREADY_EXISTS",
    Conflict: "CONFLICT",
    DataCorrupted: "DATA_CORRUPTED",
    PermissionDenied: "PERMISSION_DENIED",
    Unauthenticated: "UNAUTHENTICATED",
    GateFailed: "GATE_FAILED",
    HeronError: "INTERNAL_ERROR",
}


def error_code(error: HeronError) -> str:
    for kind in type(error).__mro__:
        if kind in ERROR_CODES:
            return ERROR_CODES[kind]
    return "INTERNAL_ERROR"


def error_to_dict(error: HeronError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error_code(error), "message": error.message}
    if isinstance(error, SearchSyntaxError):
        body.update(reason=error.reason, text=error.text, position=error.position)
    return {"error": body}


def error_from_dict(data: dict[str, Any]) -> HeronError:
    """The same exception class the server raised, so callers catch what they would locally."""
    body = data.get("error") or {}
    code = body.get("code", "INTERNAL_ERROR")
    message = str(body.get("message", "unknown error"))
    if code == "SEARCH_SYNTAX_ERROR":
        return SearchSyntaxError(
            str(body.get("reason", message)),
            str(body.get("text", "")),
            int(body.get("position", 0)),
        )
    for kind, name in ERROR_CODES.items():
        if name == code:
            return kind(message)
    return HeronError(message)
