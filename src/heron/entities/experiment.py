"""Experiments: named groups of runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from heron.entities.lifecycle import LifecycleStage


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int  # milliseconds since the epoch, as MLflow
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentStats:
    """How many runs an experiment holds and when anything last happened in it: the later
    of its own last update and its runs' latest start or end."""

    experiment_id: str
    active_runs: int
    deleted_runs: int
    last_activity: int  # milliseconds since the epoch
