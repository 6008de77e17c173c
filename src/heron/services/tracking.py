"""Tracking use cases: the one set of rules behind the embedded client and the server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from heron.artifacts import (
    ArtifactRepository,
    StoredArtifact,
    artifact_repository,
    clean_artifact_path,
    require_sha256,
    verify_download,
)
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
from heron.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from heron.search import parse_filter, parse_order_by
from heron.search.ast import EXPERIMENTS
from heron.services import validation as v
from heron.services.downsample import DownsampleCache
from heron.store.base import TrackingStore, ViewType

DEFAULT_EXPERIMENT_NAME = "Default"
MAX_ARTIFACT_RECORDS = 1000  # per call: each costs the server a look at the store
MAX_STATS_EXPERIMENTS = 1000  # per call: the experiments page asks for one page of ids


def require_active_experiment(experiment: Experiment) -> Experiment:
    """An experiment found by name can be used for new runs only while it is active."""
    if experiment.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidArgument(
            f"experiment {experiment.name!r} is deleted: restore it (`heron experiments "
            f"restore {experiment.name}`) or choose another name"
        )
    return experiment


def require_active_run(run: Run) -> Run:
    """A deleted run keeps its data but takes no new data until it is restored."""
    if run.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidArgument(f"run {run.id} is deleted: restore it before changing it")
    return run


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class TrackingService:
    def __init__(
        self,
        store: TrackingStore,
        artifact_root: str,
        *,
        repository_for: Callable[[str], ArtifactRepository] = artifact_repository,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.artifact_root = artifact_root.rstrip("/")
        self._repository_for = repository_for
        self._clock = clock
        self.downsampled = DownsampleCache()

    def close(self) -> None:
        self.store.close()

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Experiment:
        v.validate_name("experiment", name, v.MAX_EXPERIMENT_NAME)
        clean_tags = self._clean_tags(tags or {})
        return self.store.create_experiment(
            name,
            clean_tags,
            self._clock(),
            lambda experiment_id: artifact_location or f"{self.artifact_root}/{experiment_id}",
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment:
        found = self.store.find_experiment_by_name(name)
        if found is None:
            raise NotFound(
                f"no experiment named {name!r}: create it with create_experiment or "
                "`heron experiments create`"
            )
        return found

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.find_experiment_by_name(name)

    def get_or_create_experiment(self, name: str) -> Experiment:
        found = self.store.find_experiment_by_name(name)
        if found is not None:
            return require_active_experiment(found)
        try:
            return self.create_experiment(name)
        except AlreadyExists:
            # Another process may have created it between our read and write.
            again = self.store.find_experiment_by_name(name)
            if again is None:
                raise
            return again

    def search_experiments(
        self,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> Page[Experiment]:
        """Experiments by id; with ``filter_string`` or ``order_by`` (over ``name``,
        ``creation_time``, ``last_update_time``, ``experiment_id`` and ``tags.*``) as asked."""
        return self.store.search_experiments(
            ViewType(view),
            name_like,
            v.validate_max_results(max_results),
            page_token,
            parse_filter(filter_string, EXPERIMENTS),
            parse_order_by(order_by, EXPERIMENTS),
        )

    def experiment_stats(self, experiment_ids: Sequence[str]) -> list[ExperimentStats]:
        """Run counts and last activity of each existing experiment of ``experiment_ids``
        (a page of an experiments list), in the store's id order."""
        if len(experiment_ids) > MAX_STATS_EXPERIMENTS:
            raise InvalidArgument(
                f"{len(experiment_ids)} experiment ids; ask for at most "
                f"{MAX_STATS_EXPERIMENTS} at a time"
            )
        return self.store.experiment_stats(list(dict.fromkeys(map(str, experiment_ids))))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        v.validate_name("experiment", new_name, v.MAX_EXPERIMENT_NAME)
        self.store.rename_experiment(str(experiment_id), new_name, self._clock())

    def delete_experiment(self, experiment_id: str) -> None:
        self.store.set_experiment_lifecycle(
            str(experiment_id), LifecycleStage.DELETED, self._clock()
        )

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.set_experiment_lifecycle(
            str(experiment_id), LifecycleStage.ACTIVE, self._clock()
        )

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        v.validate_key("tag", key)
        self.store.set_experiment_tag(str(experiment_id), key, v.validate_tag_value(key, value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(str(experiment_id), v.validate_key("tag", key))

    # -- runs --------------------------------------------------------------------------

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
    ) -> Run:
        name = run_name if run_name else _generated_name()
        v.validate_name("run", name, v.MAX_RUN_NAME)
        v.check_length("user", user, v.MAX_USER)
        v.check_length("git_commit", git_commit, v.MAX_GIT_COMMIT)
        experiment = str(experiment_id)
        return self.store.create_run(
            experiment_id=experiment,
            name=name,
            status=RunStatus(status),
            start_time=start_time if start_time is not None else self._clock(),
            user=user,
            source=source,
            git_commit=git_commit,
            parent_run_id=parent_run_id,
            tags=self._clean_tags(tags or {}),
            artifact_uri_for=lambda location, run: f"{location.rstrip('/')}/{run}/artifacts",
        )

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> Run:
        if run_name is not None:
            v.validate_name("run", run_name, v.MAX_RUN_NAME)
        self.store.update_run(
            run_id,
            status=RunStatus(status) if status is not None else None,
            end_time=end_time,
            name=run_name,
        )
        return self.store.get_run(run_id)

    def end_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> None:
        status = RunStatus(status)
        if not status.is_terminal:
            raise InvalidArgument(f"a run ends as FINISHED, FAILED or KILLED, not {status.value}")
        self.store.update_run(run_id, status=status, end_time=self._clock())

    def delete_run(self, run_id: str) -> None:
        self.store.set_run_lifecycle(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self.store.set_run_lifecycle(run_id, LifecycleStage.ACTIVE)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> None:
        """Store a batch atomically. ``request_id`` (1-64 characters, unique per batch)
        makes retries safe: a batch already applied with that id is not stored again."""
        v.check_batch_size(len(metrics), len(params), len(tags))
        if request_id is not None and not 0 < len(request_id) <= 64:
            raise InvalidArgument("request_id must be 1 to 64 characters, e.g. a uuid4 hex")
        clean_metrics = v.clean_metrics(metrics)
        clean_params = [
            Param(v.validate_key("param", p.key), v.validate_param_value(p.key, p.value))
            for p in params
        ]
        clean_tags = [
            RunTag(v.validate_key("tag", t.key), v.validate_tag_value(t.key, t.value)) for t in tags
        ]
        self.store.log_batch(run_id, clean_metrics, clean_params, clean_tags, request_id)

    @staticmethod
    def clean_metrics(metrics: Sequence[Metric]) -> list[Metric]:
        return v.clean_metrics(metrics)

    def log_metric(
        self, run_id: str, key: str, value: float, *, step: int = 0, timestamp: int | None = None
    ) -> None:
        when = self._clock() if timestamp is None else timestamp
        self.log_batch(run_id, metrics=[Metric(key, value, when, step)])

    def log_param(self, run_id: str, key: str, value: object) -> None:
        self.log_batch(run_id, params=[Param(key, str(value))])

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        self.log_batch(run_id, tags=[RunTag(key, str(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, key)

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int = 25_000,
        page_token: str | None = None,
    ) -> Page[Metric]:
        page = self.get_metric_series(run_id, key, max_results=max_results, page_token=page_token)
        return Page(page.metrics(), page.next_page_token)

    def get_metric_series(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int = 25_000,
        page_token: str | None = None,
    ) -> SeriesPage:
        """``get_metric_history`` as columns, for readers of many points (charts, the server)."""
        return self.store.get_metric_series(
            run_id, key, v.validate_max_results(max_results), page_token
        )

    def get_metric_history_downsampled(
        self, run_id: str, key: str, max_points: int
    ) -> list[Metric]:
        """The whole series reduced to at most ``max_points`` points (min/max per bucket)."""
        from heron.services.downsample import MIN_POINTS, downsampled_history

        if not MIN_POINTS <= max_points <= v.MAX_RESULTS:
            raise InvalidArgument(
                f"max_points must be between {MIN_POINTS} and {v.MAX_RESULTS}, got {max_points}"
            )
        return downsampled_history(self, run_id, key, max_points)

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
        """Each run's latest point per metric, with step and timestamp (``Run.metrics``
        holds the values only), for runs already read."""
        return self.store.latest_metrics(list(run_ids))

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        for run_input in inputs:
            ds = run_input.dataset
            for field_name, value, limit in (
                ("name", ds.name, v.MAX_DATASET_FIELD),
                ("digest", ds.digest, v.MAX_DIGEST),
            ):
                if not value or len(value) > limit:
                    raise InvalidArgument(
                        f"dataset {field_name} must be 1 to {limit} characters, got {value!r}"
                    )
            v.check_length("dataset source_type", ds.source_type, v.MAX_SOURCE_TYPE)
            if len(run_input.context) > v.MAX_KEY:
                raise InvalidArgument(f"dataset context is longer than {v.MAX_KEY} characters")
        self.store.log_inputs(run_id, inputs)

    def search_runs(
        self,
        experiment_ids: Iterable[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | str | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Run]:
        ids = [str(e) for e in experiment_ids]
        if not ids:
            raise InvalidArgument("search_runs needs at least one experiment id")
        return self.store.search_runs(
            ids,
            parse_filter(filter_string),
            parse_order_by(order_by),
            ViewType(view),
            v.validate_max_results(max_results),
            page_token,
        )

    # -- artifacts ---------------------------------------------------------------------

    def _repository(self, run_id: str) -> ArtifactRepository:
        return self._repository_for(self.store.get_artifact_uri(run_id))

    def run_artifact_root(self, run_id: str) -> str:
        """Where run ``run_id`` keeps its artifacts (one column read; NotFound if no run)."""
        return self.store.get_artifact_uri(run_id)

    def artifacts_at(self, artifact_root: str) -> ArtifactRepository:
        """The artifact store under ``artifact_root`` (a run's, from ``run_artifact_root``),
        for a caller that reads several files of one run without looking the run up
        again for each."""
        return self._repository_for(artifact_root)

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str | None = None) -> None:
        """Upload a file or a directory (its contents go under ``artifact_path``)."""
        destination = clean_artifact_path(artifact_path)
        stored = self._repository(run_id).upload(Path(local_path), destination)
        self._record(run_id, stored)

    def _record(self, run_id: str, stored: Sequence[StoredArtifact]) -> None:
        files = [FileInfo(s.path, False, s.size, s.sha256) for s in stored]
        self.store.record_artifacts(run_id, files, self._clock())

    def write_artifact(self, run_id: str, path: str, stream: BinaryIO) -> StoredArtifact:
        """Store a stream as the artifact file ``path`` of an active run (size and sha256)."""
        destination = clean_artifact_path(path)
        if not destination:
            raise InvalidArgument("an artifact upload needs a file path, e.g. plots/roc.png")
        run = require_active_run(self.store.get_run(run_id))
        stored = self._repository_for(run.artifact_uri).write_stream(destination, stream)
        self._record(run_id, [stored])
        return stored

    def record_artifacts(self, run_id: str, files: Sequence[StoredArtifact]) -> None:
        """Record files that a client wrote straight to the run's artifact store.

        Each must be there with the size given: a record is a promise that the bytes exist,
        and the check catches a client writing to another store than this one (say, another
        S3 endpoint). The sha256 is taken on trust; downloads verify it.
        """
        if len(files) > MAX_ARTIFACT_RECORDS:
            raise InvalidArgument(
                f"{len(files)} artifact records in one call; the limit is "
                f"{MAX_ARTIFACT_RECORDS}: record them in several calls"
            )
        clean = [
            StoredArtifact(_file_path(f.path), _size(f.path, f.size), require_sha256(f.sha256))
            for f in files
        ]
        run = require_active_run(self.store.get_run(run_id))
        repository = self._repository_for(run.artifact_uri)
        folders: dict[str, dict[str, FileInfo]] = {}
        for stored in clean:
            folder = stored.path.rpartition("/")[0]
            if folder not in folders:
                folders[folder] = {f.path: f for f in repository.list(folder) if not f.is_dir}
            found = folders[folder].get(stored.path)
            if found is None:
                raise NotFound(
                    f"artifact {stored.path!r} is not in the artifact store of run {run_id} "
                    f"({run.artifact_uri}): upload it there before recording it, to the same "
                    "store the server uses (check the client's endpoint, e.g. AWS_ENDPOINT_URL)"
                )
            if found.size != stored.size:
                raise Conflict(
                    f"artifact {stored.path!r} of run {run_id} has {found.size} bytes in the "
                    f"store, not {stored.size}: it was changed since; upload it again"
                )
        self._record(run_id, clean)

    def delete_artifacts(self, run_id: str, path: str) -> None:
        """Remove a file or folder of an active run's artifacts, and their checksums."""
        clean = clean_artifact_path(path)
        run = require_active_run(self.store.get_run(run_id))
        self._repository_for(run.artifact_uri).delete(clean)
        self.store.forget_artifacts(run_id, clean)

    def artifact_checksum(self, run_id: str, path: str) -> str | None:
        """The sha256 recorded when the artifact file was stored (None if never recorded)."""
        clean = clean_artifact_path(path)
        return self.store.artifact_checksums(run_id, clean).get(clean)

    def artifact_checksums(self, run_id: str, path: str | None = None) -> dict[str, str]:
        """The recorded sha256 of every artifact file at or under ``path``."""
        self.store.get_run(run_id)  # NotFound for an unknown run, not an empty answer
        return self.store.artifact_checksums(run_id, clean_artifact_path(path))

    def open_artifact(self, run_id: str, path: str) -> BinaryIO:
        """A binary file object streaming one artifact file; the caller closes it."""
        return self._repository(run_id).open_read(clean_artifact_path(path))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        clean = clean_artifact_path(path)
        listed = self._repository(run_id).list(clean)
        checksums = self.store.artifact_checksums(run_id, clean)
        return [replace(info, sha256=checksums.get(info.path)) for info in listed]

    def download_artifacts(self, run_id: str, path: str, destination: Path) -> Path:
        """Copy a file or folder of artifacts locally, verifying every recorded checksum."""
        clean = clean_artifact_path(path)
        target = self._repository(run_id).download(clean, Path(destination))
        checksums = self.store.artifact_checksums(run_id, clean)
        verify_download(target, clean, checksums, f"run {run_id}")
        return target

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _clean_tags(tags: dict[str, str]) -> dict[str, str]:
        return {
            v.validate_key("tag", key): v.validate_tag_value(key, value)
            for key, value in tags.items()
        }


_ADJECTIVES = (
    "amber",
    "bold",
    "calm",
    "deft",
    "eager",
    "fleet",
    "gentle",
    "keen",
    "lucid",
    "merry",
    "nimble",
    "quiet",
    "rapid",
    "sly",
    "tidy",
    "vivid",
    "wise",
    "zesty",
)
_NOUNS = (
    "heron",
    "crane",
    "egret",
    "ibis",
    "stork",
    "finch",
    "kite",
    "lark",
    "owl",
    "tern",
    "wren",
    "swift",
    "plover",
    "rail",
    "snipe",
    "teal",
)


def _generated_name() -> str:
    import secrets

    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"


def _file_path(path: str) -> str:
    clean = clean_artifact_path(path)
    if not clean:
        raise InvalidArgument("an artifact record needs a file path, e.g. plots/roc.png")
    return clean


def _size(path: str, size: int) -> int:
    if size < 0:
        raise InvalidArgument(f"artifact {path!r}: size must be 0 or more bytes, got {size}")
    return size
