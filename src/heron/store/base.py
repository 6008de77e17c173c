"""The metadata store interface for tracking.

Services depend on this, never on a backend. Implementations: ``SqlTrackingStore``
(SQLite embedded, PostgreSQL scale-out), both run by one parametrized test suite.
The store enforces integrity (existence, uniqueness, immutable params, active runs);
input validation and defaults are the services' job.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from enum import Enum

import numpy as np
import numpy.typing as npt

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
from heron.search.ast import Expr, OrderKey


class ViewType(str, Enum):
    """Which lifecycle stages a listing includes."""

    ACTIVE_ONLY = "active"
    DELETED_ONLY = "deleted"
    ALL = "all"

    def stages(self) -> tuple[str, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE.value,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED.value,)
        return (LifecycleStage.ACTIVE.value, LifecycleStage.DELETED.value)


class TrackingStore(ABC):
    # -- experiments -------------------------------------------------------------------

    @abstractmethod
    def create_experiment(
        self,
        name: str,
        tags: dict[str, str],
        now: int,
        artifact_location_for: Callable[[str], str],
    ) -> Experiment:
        """Create an experiment; its artifact location is computed from its new id."""

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abstractmethod
    def find_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abstractmethod
    def search_experiments(
        self,
        view: ViewType,
        name_like: str | None,
        max_results: int,
        page_token: str | None,
        filter_expr: Expr | None = None,
        order_by: Sequence[OrderKey] = (),
    ) -> Page[Experiment]:
        """Experiments by id, or matching ``filter_expr`` (over the experiment vocabulary)
        in ``order_by`` order then by id."""

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag; NotFound if the experiment has no tag ``key``."""

    @abstractmethod
    def experiment_stats(self, experiment_ids: Sequence[str]) -> list[ExperimentStats]:
        """Run counts and last activity of the experiments among ``experiment_ids`` that
        exist (unknown ids are left out), in one query whatever their number."""

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str, now: int) -> None: ...

    @abstractmethod
    def set_experiment_lifecycle(
        self, experiment_id: str, stage: LifecycleStage, now: int
    ) -> None: ...

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    # -- runs --------------------------------------------------------------------------

    @abstractmethod
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
        """``artifact_uri_for(experiment_artifact_location, run_id)`` names the run's root."""

    @abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abstractmethod
    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> None: ...

    @abstractmethod
    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage) -> None: ...

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> bool:
        """Store all of it in one transaction, or none of it.

        With ``request_id``, a batch whose id was already applied (within a day) is not
        stored again and False is returned: retries and spool replays are idempotent.
        Raises InvalidArgument if a param already has a different value.
        """

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    def get_metric_series(
        self, run_id: str, key: str, max_results: int, page_token: str | None
    ) -> SeriesPage:
        """A page of ``key``'s history in (step, timestamp, arrival) order; an unknown
        key of an existing run is an empty page, an unknown run is NotFound."""

    @abstractmethod
    def sample_metric_history(
        self,
        run_id: str,
        key: str,
        choose: Callable[[npt.NDArray[np.float64]], Sequence[int]],
    ) -> SeriesPage:
        """The points of a metric's history at the positions (ascending) that ``choose``
        picks from all its values in step order, without reading the other points whole."""

    @abstractmethod
    def count_metric_points(self, run_id: str, key: str) -> int:
        """How many points ``key``'s history holds (0 if never logged); NotFound for an
        unknown run. Histories only grow, so an unchanged count is an unchanged history."""

    @abstractmethod
    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
        """Each run's latest point per metric key, with its step and timestamp (runs
        without metrics are left out)."""

    @abstractmethod
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_expr: Expr | None,
        order_by: Sequence[OrderKey],
        view: ViewType,
        max_results: int,
        page_token: str | None,
    ) -> Page[Run]: ...

    @abstractmethod
    def get_artifact_uri(self, run_id: str) -> str:
        """Where the artifacts of run ``run_id`` live (NotFound for an unknown run): one
        column, for the artifact calls that need nothing else of the run."""

    @abstractmethod
    def record_artifacts(self, run_id: str, files: Sequence[FileInfo], now: int) -> None:
        """Remember size and sha256 of stored artifact files (replacing older records)."""

    @abstractmethod
    def forget_artifacts(self, run_id: str, prefix: str = "") -> None:
        """Drop the records of a run's files at or under ``prefix`` ("" for all)."""

    @abstractmethod
    def artifact_checksums(self, run_id: str, prefix: str = "") -> dict[str, str]:
        """sha256 by path of the recorded files of a run under ``prefix`` ("" for all)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release connections. Safe to call twice."""
