"""Runs and what is logged to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from heron.entities.lifecycle import LifecycleStage, RunStatus


@dataclass(frozen=True)
class Metric:
    """One point of a metric series. ``value`` may be NaN or +/-inf and is kept as given."""

    key: str
    value: float
    timestamp: int  # milliseconds since the epoch
    step: int = 0


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class Dataset:
    """A dataset identified by name and content digest, with what it looked like."""

    name: str
    digest: str
    source_type: str  # "pandas", "numpy", "parquet", "csv", "path", ...
    source: str  # where it came from: a path or URI, or "memory"
    schema: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInput:
    dataset: Dataset
    context: str = ""  # "training", "validation", "test", ...


@dataclass(frozen=True)
class Run:
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    source: str
    git_commit: str | None
    parent_run_id: str | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest value per key
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[RunInput, ...] = ()

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time
