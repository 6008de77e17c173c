"""What the logged-model service needs from a metadata store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from heron.entities import FileInfo, LifecycleStage
from heron.entities.logged_model import LoggedModel, LoggedModelStatus, ModelMetric, ModelOutput


class LoggedModelStore(ABC):
    @abstractmethod
    def create_logged_model(self, model: LoggedModel) -> None:
        """Insert ``model`` with its tags and params."""

    @abstractmethod
    def get_logged_model(self, model_id: str) -> LoggedModel:
        """The model ``model_id``, deleted or not; NotFound otherwise."""

    @abstractmethod
    def update_logged_model(
        self,
        model_id: str,
        now: int,
        *,
        status: LoggedModelStatus | None = None,
        status_message: str | None = None,
        lifecycle: LifecycleStage | None = None,
    ) -> LoggedModel: ...

    @abstractmethod
    def set_logged_model_tags(
        self, model_id: str, tags: Mapping[str, str | None], now: int
    ) -> None:
        """Set tags; a None value deletes the tag."""

    @abstractmethod
    def log_logged_model_params(self, model_id: str, params: Mapping[str, str], now: int) -> None:
        """Add params; a param keeps its first value (Conflict on another one)."""

    @abstractmethod
    def list_logged_models(
        self, experiment_ids: Sequence[str], stages: Sequence[LifecycleStage]
    ) -> list[LoggedModel]:
        """Every model of the experiments in those lifecycle stages, newest first."""

    @abstractmethod
    def log_model_outputs(self, outputs: Sequence[ModelOutput]) -> None:
        """Record that runs produced logged models (again: the step is updated)."""

    @abstractmethod
    def model_outputs(self, run_id: str) -> list[ModelOutput]: ...

    @abstractmethod
    def log_model_metrics(self, points: Sequence[tuple[str, ModelMetric]]) -> None:
        """Append ``(model_id, point)`` pairs to the models' metrics, in one transaction."""

    @abstractmethod
    def record_files(self, model_id: str, files: Sequence[FileInfo], now: int) -> None:
        """Remember size and sha256 of stored files of a model (replacing older records)."""

    @abstractmethod
    def file_checksums(self, model_id: str, prefix: str = "") -> dict[str, str]:
        """sha256 by path of the recorded files of a model under ``prefix`` ("" for all)."""

    @abstractmethod
    def forget_files(self, model_id: str, prefix: str = "") -> None:
        """Drop the records of the files at or under ``prefix`` ("" for all)."""
