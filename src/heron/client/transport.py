"""What a Client needs from where the data lives: the tracking service's public surface.

Two implementations: the local one is ``TrackingService`` itself (embedded SQLite or
PostgreSQL), the remote one is ``HttpTransport`` (a Heron server). Both raise the same
``heron.errors`` exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from heron.entities import (
    Experiment,
    FileInfo,
    Metric,
    Page,
    Param,
    Run,
    RunInput,
    RunStatus,
    RunTag,
)
from heron.entities.experiment import ExperimentStats
from heron.store.base import ViewType


class TrackingTransport(Protocol):
    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Experiment: ...

    def get_experiment(self, experiment_id: str) -> Experiment: ...

    def find_experiment_by_name(self, name: str) -> Experiment | None: ...

    def get_experiment_by_name(self, name: str) -> Experiment: ...

    def get_or_create_experiment(self, name: str) -> Experiment: ...

    def search_experiments(
        self,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]: ...

    def experiment_stats(self, experiment_ids: Sequence[str]) -> list[ExperimentStats]: ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    def delete_experiment(self, experiment_id: str) -> None: ...

    def restore_experiment(self, experiment_id: str) -> None: ...

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        start_time: int | None = None,
        user: str = "",
        source: str = "",
        git_commit: str | None = None,
        parent_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        status: RunStatus = RunStatus.RUNNING,
    ) -> Run: ...

    def get_run(self, run_id: str) -> Run: ...

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> Run: ...

    def end_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None: ...

    def delete_run(self, run_id: str) -> None: ...

    def restore_run(self, run_id: str) -> None: ...

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> None: ...

    def log_metric(
        self, run_id: str, key: str, value: float, *, step: int = 0, timestamp: int | None = None
    ) -> None: ...

    def log_param(self, run_id: str, key: str, value: object) -> None: ...

    def set_tag(self, run_id: str, key: str, value: object) -> None: ...

    def delete_tag(self, run_id: str, key: str) -> None: ...

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int = 25_000,
        page_token: str | None = None,
    ) -> Page[Metric]: ...

    def get_metric_history_downsampled(
        self, run_id: str, key: str, max_points: int
    ) -> list[Metric]: ...

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...

    def search_runs(
        self,
        experiment_ids: Iterable[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | str | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Run]: ...

    def log_artifact(
        self, run_id: str, local_path: Path, artifact_path: str | None = None
    ) -> None: ...

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]: ...

    def download_artifacts(self, run_id: str, path: str, destination: Path) -> Path: ...

    def close(self) -> None: ...
