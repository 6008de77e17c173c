"""Heron entities as MLflow's JSON, and MLflow's run tags as Heron's run fields.

MLflow keeps a run's name, user, source and parent in ``mlflow.*`` tags; Heron has fields
for them. The fields are the truth: the reserved tags below are filled from them when a
run is shown to an MLflow client, and are turned into fields when an MLflow client sends
them, so a run logged through either API reads the same through the other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from heron.entities import Experiment, FileInfo, Metric, Run, RunInput
from heron.entities.wire import number_to_json

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
SOURCE_NAME_TAG = "mlflow.source.name"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
PARENT_RUN_TAG = "mlflow.parentRunId"
DATASET_CONTEXT_TAG = "mlflow.data.context"
LOGGED_MODELS_TAG = "mlflow.log-model.history"

ARTIFACTS_SCHEME = "mlflow-artifacts:"


class ArtifactUris:
    """Heron's artifact URIs under the server's root, spelled as MLflow's proxied URIs.

    ``mlflow-artifacts:/1/<run>/artifacts`` makes MLflow's client send artifact bytes
    through this server (``/api/2.0/mlflow-artifacts/...``), whatever store is behind it.
    URIs outside the root (an experiment created elsewhere) are shown as they are.
    """

    def __init__(self, artifact_root: str, *, proxied: bool = True) -> None:
        self.root = artifact_root.rstrip("/")
        self.proxied = proxied

    def to_mlflow(self, uri: str) -> str:
        if not self.proxied:
            return uri
        if uri == self.root:
            return f"{ARTIFACTS_SCHEME}/"
        if uri.startswith(self.root + "/"):
            return f"{ARTIFACTS_SCHEME}/{uri[len(self.root) + 1 :]}"
        return uri

    def from_mlflow(self, uri: str) -> str:
        if uri.startswith(ARTIFACTS_SCHEME):
            relative = uri[len(ARTIFACTS_SCHEME) :].lstrip("/")
            return f"{self.root}/{relative}" if relative else self.root
        return uri


def experiment_json(experiment: Experiment, uris: ArtifactUris) -> dict[str, Any]:
    return {
        "experiment_id": experiment.id,
        "name": experiment.name,
        "artifact_location": uris.to_mlflow(experiment.artifact_location),
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": [{"key": k, "value": v} for k, v in experiment.tags.items()],
    }


def mlflow_tags(run: Run) -> dict[str, str]:
    """The run's tags plus the reserved MLflow tags derived from its fields."""
    tags = dict(run.tags)
    tags[RUN_NAME_TAG] = run.name
    for key, value in (
        (USER_TAG, run.user),
        (SOURCE_NAME_TAG, run.source),
        (GIT_COMMIT_TAG, run.git_commit),
        (PARENT_RUN_TAG, run.parent_run_id),
    ):
        if value and key not in tags:
            tags[key] = value
    return tags


def run_info_json(run: Run, uris: ArtifactUris) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": run.experiment_id,
        "user_id": run.user,
        "status": run.status.value,
        "start_time": run.start_time,
        "artifact_uri": uris.to_mlflow(run.artifact_uri),
        "lifecycle_stage": run.lifecycle_stage.value,
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run_json(run: Run, uris: ArtifactUris, latest: Sequence[Metric] = ()) -> dict[str, Any]:
    """``latest``: the run's latest metric points (``TrackingService.latest_metrics``),
    which carry the step and timestamp that ``run.metrics`` (values only) lacks."""
    return {
        "info": run_info_json(run, uris),
        "data": {
            "metrics": [metric_json(point) for point in latest],
            "params": [{"key": k, "value": v} for k, v in run.params.items()],
            "tags": [{"key": k, "value": v} for k, v in mlflow_tags(run).items()],
        },
        "inputs": {"dataset_inputs": [dataset_input_json(i) for i in run.inputs]},
    }


def dataset_input_json(run_input: RunInput) -> dict[str, Any]:
    dataset = run_input.dataset
    body: dict[str, Any] = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    # MLflow carries schema and profile as JSON text; Heron stores them parsed.
    if dataset.schema:
        body["schema"] = json.dumps(dataset.schema)
    if dataset.profile:
        body["profile"] = json.dumps(dataset.profile)
    tags = [{"key": DATASET_CONTEXT_TAG, "value": run_input.context}] if run_input.context else []
    return {"tags": tags, "dataset": body}


def json_text_to_dict(text: str | None) -> dict[str, Any]:
    """MLflow's dataset schema or profile (JSON text) as the dict Heron stores."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"text": text}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def json_list(text: str | None) -> list[Any]:
    """A JSON list kept in a tag (empty when absent or not a list)."""
    try:
        parsed = json.loads(text) if text else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def metric_json(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": number_to_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def file_info_json(info: FileInfo, path: str) -> dict[str, Any]:
    body: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if info.size is not None and not info.is_dir:
        body["file_size"] = info.size
    return body
