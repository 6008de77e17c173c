"""Logged models (MLflow 3): create, finalize, tag, search, and their files.

A logged model's files live under its experiment's artifact location, at
``<experiment>/models/<model_id>/artifacts`` as on MLflow's server, and go through the
same artifact repositories as runs' files. The registry registers versions from them
(``models:/<model_id>``) through ``RegistryService``'s logged-model lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import BinaryIO

from heron.artifacts import ArtifactRepository, artifact_repository, clean_artifact_path
from heron.artifacts.base import StoredArtifact
from heron.entities import FileInfo, LifecycleStage, Page
from heron.entities.logged_model import LoggedModel, LoggedModelStatus, ModelMetric, ModelOutput
from heron.errors import InvalidArgument, NotFound
from heron.services.logged_model_search import SortKey, search_logged_models
from heron.services.tracking import TrackingService, now_ms
from heron.services.validation import (
    validate_key,
    validate_max_results,
    validate_param_value,
    validate_tag_value,
)
from heron.store.base import ViewType
from heron.store.logged_model_base import LoggedModelStore

MODEL_ID_PREFIX = "m-"
MAX_NAME_LENGTH = 500


def is_logged_model_id(text: str) -> bool:
    """Whether ``text`` is spelled like a logged model's id (``m-`` and 32 hex digits)."""
    rest = text.removeprefix(MODEL_ID_PREFIX)
    return (
        text.startswith(MODEL_ID_PREFIX)
        and len(rest) == 32
        and all(c in "0123456789abcdef" for c in rest)
    )


class LoggedModelService:
    def __init__(
        self,
        store: LoggedModelStore,
        tracking: TrackingService,
        *,
        repository_for: Callable[[str], ArtifactRepository] = artifact_repository,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.tracking = tracking
        self._repository_for = repository_for
        self._clock = clock

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        creator: str = "",
        source_run_id: str | None = None,
        model_type: str = "",
        tags: Mapping[str, object] | None = None,
        params: Mapping[str, object] | None = None,
    ) -> LoggedModel:
        experiment = self.tracking.get_experiment(experiment_id)
        if experiment.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidArgument(
                f"experiment {experiment_id} is deleted: restore it before logging models to it"
            )
        if source_run_id:
            self.tracking.get_run(source_run_id)  # NotFound for a run that does not exist
        model_id = MODEL_ID_PREFIX + uuid.uuid4().hex
        now = self._clock()
        model = LoggedModel(
            id=model_id,
            experiment_id=experiment.id,
            name=_model_name(name, model_id),
            artifact_location=(
                f"{experiment.artifact_location.rstrip('/')}/models/{model_id}/artifacts"
            ),
            status=LoggedModelStatus.PENDING,
            created_at=now,
            updated_at=now,
            creator=creator,
            model_type=model_type or "",
            source_run_id=source_run_id or None,
            tags=_clean("tag", tags, validate_tag_value),
            params=_clean("param", params, validate_param_value),
        )
        self.store.create_logged_model(model)
        return model

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        model = self.store.get_logged_model(model_id)
        if model.lifecycle_stage is LifecycleStage.DELETED and not allow_deleted:
            raise NotFound(f"logged model {model_id!r} is deleted")
        return model

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus, message: str = ""
    ) -> LoggedModel:
        if status is LoggedModelStatus.PENDING:
            raise InvalidArgument("finalize a logged model as READY or FAILED, not PENDING")
        self.get_logged_model(model_id)
        return self.store.update_logged_model(
            model_id, self._clock(), status=status, status_message=message
        )

    def delete_logged_model(self, model_id: str) -> None:
        self.get_logged_model(model_id)
        self.store.update_logged_model(model_id, self._clock(), lifecycle=LifecycleStage.DELETED)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, object]) -> None:
        self.get_logged_model(model_id)
        self.store.set_logged_model_tags(
            model_id, _clean("tag", tags, validate_tag_value), self._clock()
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.get_logged_model(model_id)
        self.store.set_logged_model_tags(model_id, {validate_key("tag", key): None}, self._clock())

    def log_logged_model_params(self, model_id: str, params: Mapping[str, object]) -> None:
        self.get_logged_model(model_id)
        self.store.log_logged_model_params(
            model_id, _clean("param", params, validate_param_value), self._clock()
        )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[SortKey] = (),
        max_results: int = 100,
        page_token: str | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
    ) -> Page[LoggedModel]:
        if not experiment_ids:
            raise InvalidArgument("name the experiments to search logged models in")
        ids = [self.tracking.get_experiment(e).id for e in experiment_ids]
        stages = [LifecycleStage(s) for s in view.stages()]
        models = self.store.list_logged_models(ids, stages)
        return search_logged_models(
            models, filter_string, order_by, validate_max_results(max_results), page_token
        )

    # -- runs' outputs -----------------------------------------------------------------

    def log_outputs(self, run_id: str, outputs: Sequence[tuple[str, int]]) -> None:
        """Record that run ``run_id`` produced these logged models, each at a step."""
        self.tracking.get_run(run_id)
        for model_id, _step in outputs:
            self.get_logged_model(model_id)
        self.store.log_model_outputs([ModelOutput(run_id, m, step) for m, step in outputs])

    def model_outputs(self, run_id: str) -> list[ModelOutput]:
        return self.store.model_outputs(run_id)

    # -- files -------------------------------------------------------------------------

    def _repository(self, model_id: str) -> ArtifactRepository:
        return self._repository_for(self.get_logged_model(model_id).artifact_location)

    def _pending(self, model_id: str) -> LoggedModel:
        model = self.get_logged_model(model_id)
        if model.status is not LoggedModelStatus.PENDING:
            raise InvalidArgument(
                f"logged model {model_id} is {model.status.value}: its files are final; "
                "log a new model to change them"
            )
        return model

    def write_artifact(self, model_id: str, path: str, stream: BinaryIO) -> StoredArtifact:
        """Store a file of a model still being logged, and record its size and sha256."""
        destination = clean_artifact_path(path)
        if not destination:
            raise InvalidArgument("an artifact upload needs a file path, e.g. MLmodel")
        model = self._pending(model_id)
        stored = self._repository_for(model.artifact_location).write_stream(destination, stream)
        self.store.record_files(
            model_id, [FileInfo(stored.path, False, stored.size, stored.sha256)], self._clock()
        )
        return stored

    def delete_artifacts(self, model_id: str, path: str) -> None:
        """Remove a file or folder of a model still being logged, and their checksums."""
        clean = clean_artifact_path(path)
        self._repository_for(self._pending(model_id).artifact_location).delete(clean)
        self.store.forget_files(model_id, clean)

    def open_artifact(self, model_id: str, path: str) -> BinaryIO:
        return self._repository(model_id).open_read(clean_artifact_path(path))

    def list_artifacts(self, model_id: str, path: str | None = None) -> list[FileInfo]:
        clean = clean_artifact_path(path)
        listed = self._repository(model_id).list(clean)
        checksums = self.store.file_checksums(model_id, clean)
        return [replace(info, sha256=checksums.get(info.path)) for info in listed]

    def artifact_checksums(self, model_id: str, path: str | None = None) -> dict[str, str]:
        """The recorded sha256 of every file of the model at or under ``path``."""
        self.get_logged_model(model_id)
        return self.store.file_checksums(model_id, clean_artifact_path(path))

    # -- metrics -----------------------------------------------------------------------

    def log_metrics(self, run_id: str, points: Sequence[tuple[str, ModelMetric]]) -> None:
        """Link metric points that run ``run_id`` logged with a model id to those models
        (the run keeps them in its own history too)."""
        if not points:
            return
        for model_id in {model_id for model_id, _ in points}:
            self.get_logged_model(model_id)
        self.store.log_model_metrics([(m, replace(p, run_id=run_id)) for m, p in points])


def _model_name(name: str | None, model_id: str) -> str:
    if not name:
        return f"model-{model_id[len(MODEL_ID_PREFIX) : len(MODEL_ID_PREFIX) + 8]}"
    if len(name) > MAX_NAME_LENGTH or "/" in name:
        raise InvalidArgument(
            f"logged model name {name[:80]!r} must be at most {MAX_NAME_LENGTH} characters "
            "without '/'"
        )
    return name


def _clean(
    kind: str, pairs: Mapping[str, object] | None, validate_value: Callable[[str, object], str]
) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in (pairs or {}).items():
        checked = validate_key(kind, key)
        clean[checked] = validate_value(checked, value)
    return clean
