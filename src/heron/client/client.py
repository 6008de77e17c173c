"""``heron.Client``: the object API over the tracking service.

The client talks to a transport; today the local one (the service itself, over a
SQLite or PostgreSQL store). A remote transport will offer the same methods.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from heron.client import config as tracking_config
from heron.client.context import current_source, current_user, source_git_commit
from heron.client.datasets import describe
from heron.client.endpoints_client import EndpointMethods
from heron.client.http_transport import HttpTransport
from heron.client.registry_client import RegistryMethods
from heron.client.transport import TrackingTransport
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
from heron.errors import InvalidArgument
from heron.services import DEFAULT_EXPERIMENT_NAME, TrackingService
from heron.services.tracking import now_ms
from heron.store import SqlTrackingStore, ViewType


def open_local_service(tracking_uri: str | None = None) -> TrackingService:
    resolved = tracking_config.resolve(tracking_uri)
    return TrackingService(SqlTrackingStore(resolved.store_uri), resolved.artifact_root)


def open_transport(tracking_uri: str | None = None) -> TrackingTransport:
    """A Heron server for http(s):// URIs, else the embedded store."""
    uri = tracking_config.tracking_uri(tracking_uri)
    if tracking_config.is_remote(uri):
        return HttpTransport(uri)
    return open_local_service(uri)


class Client(RegistryMethods, EndpointMethods):
    """Track experiments and runs, and register models.

    >>> client = Client("sqlite:///heron.db")   # or no argument: HERON_TRACKING_URI, ./.heron
    >>> run = client.create_run(client.get_or_create_experiment("fraud").id)
    >>> client.log_metric(run.id, "auc", 0.91)
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        transport: TrackingTransport | None = None,
        user: str | None = None,
    ) -> None:
        """``tracking_uri``: a folder, ``sqlite:///...``, ``postgresql://...`` or the
        ``http(s)://`` address of a Heron server. ``transport`` overrides it (tests).
        ``user``: who registry changes are made as (default: HERON_USER, else the OS user)."""
        self.tracking_uri = tracking_uri
        self.user = user
        self._service = transport if transport is not None else open_transport(tracking_uri)

    @property
    def service(self) -> TrackingTransport:
        return self._service

    def close(self) -> None:
        self._service.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Experiment:
        return self._service.create_experiment(
            name,
            artifact_location=artifact_location,
            tags={k: str(v) for k, v in (tags or {}).items()},
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._service.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None (as in MLflow)."""
        return self._service.find_experiment_by_name(name)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return self._service.get_or_create_experiment(name)

    def search_experiments(
        self,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        return self._service.search_experiments(
            view=ViewType(view),
            name_like=name_like,
            max_results=max_results,
            page_token=page_token,
        )

    def experiment_stats(self, experiment_ids: Sequence[str]) -> list[ExperimentStats]:
        """Run counts (active, deleted) and last activity of each experiment that exists,
        for up to 1,000 ids, in one query."""
        return self._service.experiment_stats(list(experiment_ids))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._service.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._service.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._service.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._service.set_experiment_tag(experiment_id, key, str(value))

    def resolve_experiment(self, name_or_id: str) -> Experiment:
        """An experiment by name, or by id when no experiment has that name."""
        found = self._service.find_experiment_by_name(str(name_or_id))
        if found is not None:
            return found
        if str(name_or_id).isdigit():
            return self._service.get_experiment(str(name_or_id))
        return self._service.get_experiment_by_name(str(name_or_id))

    # -- runs --------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str | None = None,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        status: RunStatus | str = RunStatus.RUNNING,
    ) -> Run:
        """Start a run; user, source file and git commit are recorded automatically."""
        if experiment_id is None:
            experiment_id = self.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME).id
        source = current_source()
        return self._service.create_run(
            experiment_id,
            run_name=run_name,
            start_time=start_time,
            user=current_user(),
            source=source,
            git_commit=source_git_commit(source),
            parent_run_id=parent_run_id,
            tags={k: str(v) for k, v in (tags or {}).items()},
            status=RunStatus(status),
        )

    def get_run(self, run_id: str) -> Run:
        return self._service.get_run(run_id)

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> Run:
        return self._service.update_run(
            run_id, status=RunStatus(status) if status else None, run_name=name
        )

    def set_terminated(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """End a run: FINISHED, FAILED or KILLED, with the end time set to now."""
        self._service.end_run(run_id, RunStatus(status))

    end_run = set_terminated

    def delete_run(self, run_id: str) -> None:
        self._service.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._service.restore_run(run_id)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        self._service.log_metric(run_id, key, value, step=step or 0, timestamp=timestamp)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self._service.log_param(run_id, key, value)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self._service.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._service.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] | Mapping[str, Any] = (),
        tags: Sequence[RunTag] | Mapping[str, Any] = (),
        request_id: str | None = None,
    ) -> None:
        """Log many values in one transaction; params and tags may be given as dicts.

        ``request_id`` makes the call idempotent: a batch with an id already applied is
        not stored again (for retries and replays; the HTTP transport sets one itself).
        """
        param_list = (
            [Param(k, str(v)) for k, v in params.items()]
            if isinstance(params, Mapping)
            else list(params)
        )
        tag_list = (
            [RunTag(k, str(v)) for k, v in tags.items()]
            if isinstance(tags, Mapping)
            else list(tags)
        )
        self._service.log_batch(run_id, list(metrics), param_list, tag_list, request_id)

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[Metric]:
        """Every point of a metric, ordered by step then time.

        With ``max_points``, the series reduced to at most that many points for a chart:
        each bucket keeps its lowest and highest point, and the first and last are kept.
        """
        if max_points is not None:
            return self._service.get_metric_history_downsampled(run_id, key, max_points)
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self._service.get_metric_history(run_id, key, page_token=token)
            points.extend(page.items)
            token = page.next_page_token
            if token is None:
                return points

    def log_input(
        self, run_id: str, dataset: Any, context: str = "training", name: str | None = None
    ) -> RunInput:
        """Record a DataFrame, array or data file as an input of the run."""
        run_input = RunInput(describe(dataset, name=name), context)
        self._service.log_inputs(run_id, [run_input])
        return run_input

    def search_runs(
        self,
        experiment_ids: str | Iterable[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | str | None = None,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Run]:
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self._service.search_runs(
            ids,
            filter_string=filter_string,
            order_by=order_by,
            view=ViewType(view),
            max_results=max_results,
            page_token=page_token,
        )

    def iter_runs(
        self,
        experiment_ids: str | Iterable[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | str | None = None,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        page_size: int = 1000,
    ) -> Iterator[Run]:
        """Every matching run, fetched page by page so memory stays flat."""
        token: str | None = None
        while True:
            page = self.search_runs(experiment_ids, filter_string, order_by, view, page_size, token)
            yield from page.items
            token = page.next_page_token
            if token is None:
                return

    # -- artifacts ---------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> None:
        self._service.log_artifact(run_id, Path(local_path), artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        if not Path(local_dir).is_dir():
            raise InvalidArgument(f"log_artifacts needs a directory, got {str(local_dir)!r}")
        self._service.log_artifact(run_id, Path(local_dir), artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Write JSON (or YAML for .yaml/.yml names) to ``artifact_file``."""
        if artifact_file.endswith((".yaml", ".yml")):
            payload = yaml.safe_dump(dictionary, sort_keys=False).encode("utf-8")
        else:
            payload = json.dumps(dictionary, indent=2, default=str).encode("utf-8")
        self._log_bytes(run_id, payload, artifact_file)

    def _log_bytes(self, run_id: str, payload: bytes, artifact_file: str) -> None:
        directory, _, name = artifact_file.rpartition("/")
        if not name:
            raise InvalidArgument(f"artifact_file {artifact_file!r} must end with a file name")
        with tempfile.TemporaryDirectory(prefix="heron-") as temp:
            local = Path(temp) / name
            local.write_bytes(payload)
            self._service.log_artifact(run_id, local, directory or None)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._service.list_artifacts(run_id, path)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | Path | None = None
    ) -> Path:
        destination = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="heron-"))
        return self._service.download_artifacts(run_id, path, destination)


__all__ = ["Client", "now_ms", "open_local_service", "open_transport"]
