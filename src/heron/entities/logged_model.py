"""Logged models (MLflow 3): a model's files and metadata, logged from a run or on their own.

A logged model belongs to an experiment; its files live under the experiment's artifact
location (``<experiment>/models/<model_id>/artifacts``), not inside a run, so that one
run can log several models and a model can be logged without a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from heron.entities.lifecycle import LifecycleStage


class LoggedModelStatus(str, Enum):
    PENDING = "PENDING"  # created; files still uploading
    READY = "READY"
    FAILED = "FAILED"  # the upload of its files failed


@dataclass(frozen=True)
class ModelMetric:
    """A metric point logged against a model (by a run evaluating it, on a dataset)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True)
class LoggedModel:
    id: str  # "m-" and 32 hex digits, as MLflow spells them
    experiment_id: str
    name: str
    artifact_location: str
    status: LoggedModelStatus
    created_at: int  # milliseconds since the epoch
    updated_at: int
    creator: str = ""
    model_type: str = ""
    source_run_id: str | None = None
    status_message: str = ""
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: tuple[ModelMetric, ...] = ()  # in the order they were logged

    @property
    def uri(self) -> str:
        return f"models:/{self.id}"


@dataclass(frozen=True)
class ModelOutput:
    """A run's output: the logged model it produced, at a step of its training."""

    run_id: str
    model_id: str
    step: int = 0
