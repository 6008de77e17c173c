"""The fluent API: ``heron.start_run()``, ``heron.log_metric()``, ...

Module state is limited to what a fluent API needs: the tracking URI chosen by the
user, the client for it, the current experiment and the stack of active runs.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from heron.client import config
from heron.client.batch_logger import BatchLogger
from heron.client.client import Client
from heron.client.http_transport import HttpTransport
from heron.client.spool import Spool, default_spool_dir
from heron.client.transport import TrackingTransport
from heron.entities import Experiment, Metric, Run, RunInput, RunStatus
from heron.errors import InvalidArgument
from heron.services import DEFAULT_EXPERIMENT_NAME
from heron.services.tracking import TrackingService, now_ms

if TYPE_CHECKING:
    import pandas as pd

_log = logging.getLogger("heron")

_state_lock = threading.RLock()
_tracking_uri: str | None = None
_client: Client | None = None
_logger: BatchLogger | None = None
_logger_transport: HttpTransport | None = None
_experiment: Experiment | None = None
_active_runs: list[ActiveRun] = []


class ActiveRun:
    """The run started by ``start_run``; a context manager that ends it.

    Leaving the ``with`` block normally ends the run as FINISHED; an exception ends it
    as FAILED (KILLED for Ctrl-C) after everything logged so far is stored.
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    @property
    def id(self) -> str:
        return self._run.id

    @property
    def name(self) -> str:
        return self._run.name

    @property
    def experiment_id(self) -> str:
        return self._run.experiment_id

    @property
    def run(self) -> Run:
        """The run as stored now (params, metrics and tags logged so far)."""
        flush()
        return _get_client().get_run(self.id)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name!r} id={self.id}>"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end(self, status, raise_errors=exc_type is None)


def set_tracking_uri(uri: str | None) -> None:
    """Track into ``uri`` (a folder, ``sqlite:///...`` or ``postgresql://...``) from now on."""
    global _tracking_uri, _client, _experiment
    with _state_lock:
        if _active_runs:
            raise InvalidArgument("end the active run before changing the tracking URI")
        _shutdown_logger()
        if _client is not None:
            _client.close()
        _tracking_uri, _client, _experiment = uri, None, None


def get_tracking_uri() -> str:
    uri = config.tracking_uri(_tracking_uri)
    return uri if config.is_remote(uri) else config.resolve(uri).store_uri


def _get_client() -> Client:
    global _client
    with _state_lock:
        if _client is None:
            _client = Client(_tracking_uri)
        return _client


def _service() -> TrackingTransport:
    return _get_client().service


def _get_logger() -> BatchLogger:
    global _logger, _logger_transport
    with _state_lock:
        if _logger is None:
            service = _service()
            client = _get_client()
            spool = Spool(default_spool_dir(), config.tracking_uri(client.tracking_uri))
            sender: TrackingTransport = service
            remote = isinstance(service, HttpTransport)
            if isinstance(service, HttpTransport):  # repeated so that mypy narrows the type
                # Fail fast to the spool, which retries with its own backoff, instead of
                # holding batches in memory for the long retry budget of direct calls.
                sender = _logger_transport = service.with_retries(1)

            def send(run_id: str, metrics: Sequence[Metric], request_id: str) -> None:
                # Request ids guard retries over the network; a local write is not retried.
                sender.log_batch(run_id, metrics, request_id=request_id if remote else None)

            _logger = BatchLogger(send, spool=spool)
        return _logger


def set_experiment(name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment current, creating it by name if needed."""
    global _experiment
    if (name is None) == (experiment_id is None):
        raise InvalidArgument("give exactly one of name or experiment_id")
    client = _get_client()
    experiment = (
        client.get_experiment(experiment_id)
        if experiment_id is not None
        else client.get_or_create_experiment(name)  # type: ignore[arg-type]
    )
    if experiment.lifecycle_stage.value != "active":
        raise InvalidArgument(
            f"experiment {experiment.name!r} is deleted: restore it before using it"
        )
    _experiment = experiment
    return experiment


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it active.

    Starting a run while another is active needs ``nested=True``; the active run
    becomes its parent.
    """
    client = _get_client()
    with _state_lock:
        if _active_runs and not nested and parent_run_id is None:
            raise InvalidArgument(
                f"run {_active_runs[-1].id} is already active: end it with heron.end_run(), "
                "or pass nested=True to start a child run"
            )
        if run_id is not None:
            run = client.update_run(run_id, status=RunStatus.RUNNING)
        else:
            if parent_run_id is None and nested and _active_runs:
                parent_run_id = _active_runs[-1].id
            if experiment_id is None:
                if parent_run_id is not None:
                    experiment_id = client.get_run(parent_run_id).experiment_id
                elif _experiment is not None:
                    experiment_id = _experiment.id
                else:
                    experiment_id = client.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME).id
            run = client.create_run(
                experiment_id, run_name=run_name, tags=tags, parent_run_id=parent_run_id
            )
        active = ActiveRun(run)
        _active_runs.append(active)
        return active


def active_run() -> ActiveRun | None:
    with _state_lock:
        return _active_runs[-1] if _active_runs else None


def _require_run() -> ActiveRun:
    current = active_run()
    if current is None:
        return start_run()
    return current


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the innermost active run (no-op if there is none)."""
    current = active_run()
    if current is not None:
        _end(current, RunStatus(status), raise_errors=True)


def _end(run: ActiveRun, status: RunStatus, *, raise_errors: bool) -> None:
    with _state_lock:
        if run not in _active_runs:
            return
        # Children first: ending a parent ends the runs nested inside it.
        while _active_runs and _active_runs[-1] is not run:
            _end(_active_runs[-1], status, raise_errors=False)
        error: BaseException | None = None
        try:
            flush()
        except BaseException as exc:  # still end the run, then report
            error = exc
            status = RunStatus.FAILED
        try:
            _get_client().set_terminated(run.id, status)
        finally:
            _active_runs.remove(run)
        if error is not None:
            if raise_errors:
                raise error
            _log.error("metrics of run %s could not all be stored: %s", run.id, error)


def flush(timeout: float = 30.0) -> None:
    """Wait until every metric logged so far is stored.

    If the tracking server is unreachable, waits at most ``timeout`` seconds for it;
    what is still unsent then stays in the on-disk spool, resent when the server
    answers (or by ``heron sync`` if this process ends first).
    """
    if _logger is not None:
        _logger.flush(spool_timeout=timeout)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    log_metrics({key: value}, step=step, timestamp=timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    """Log metric points to the active run; they are stored in the background."""
    run = _require_run()
    when = now_ms() if timestamp is None else timestamp
    # Validate here so that bad input fails at the call, not later on a worker thread.
    points = TrackingService.clean_metrics(
        [Metric(key, value, when, step or 0) for key, value in metrics.items()]
    )
    _get_logger().enqueue(run.id, points)


def log_param(key: str, value: Any) -> None:
    _service().log_param(_require_run().id, key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _get_client().log_batch(_require_run().id, params=params)


def set_tag(key: str, value: Any) -> None:
    _service().set_tag(_require_run().id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _get_client().log_batch(_require_run().id, tags=tags)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> None:
    """Upload a file or a folder to the active run's artifacts."""
    _get_client().log_artifact(_require_run().id, local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> None:
    _get_client().log_artifacts(_require_run().id, local_dir, artifact_path)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    _get_client().log_dict(_require_run().id, dictionary, artifact_file)


def log_text(text: str, artifact_file: str) -> None:
    _get_client().log_text(_require_run().id, text, artifact_file)


def log_input(dataset: Any, context: str = "training", name: str | None = None) -> RunInput:
    """Record a dataset (DataFrame, array, or .parquet/.csv path) used by the active run."""
    return _get_client().log_input(_require_run().id, dataset, context=context, name=name)


def get_run(run_id: str) -> Run:
    flush()
    return _get_client().get_run(run_id)


def search_runs(
    experiments: str | Iterable[str] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    max_results: int = 1000,
    output_format: Literal["pandas", "list"] = "pandas",
    include_deleted: bool = False,
) -> pd.DataFrame | list[Run]:
    """Search runs of experiments given by name or id (default: the current experiment).

    Returns a DataFrame with one row per run and columns ``metrics.*``, ``params.*``,
    ``tags.*`` (as MLflow does), or a list of Run with ``output_format="list"``.
    """
    flush()
    client = _get_client()
    if experiments is None:
        current = _experiment or client.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME)
        ids = [current.id]
    else:
        wanted = [experiments] if isinstance(experiments, str) else list(experiments)
        ids = [client.resolve_experiment(e).id for e in wanted]
    view = "all" if include_deleted else "active"
    found: list[Run] = []
    token: str | None = None
    while len(found) < max_results:
        page = client.search_runs(
            ids, filter, order_by, view, min(max_results - len(found), 50_000), token
        )
        found.extend(page.items)
        token = page.next_page_token
        if token is None:
            break
    if output_format == "list":
        return found
    if output_format != "pandas":
        raise InvalidArgument("output_format must be 'pandas' or 'list'")
    from heron.client.frames import runs_to_frame

    return runs_to_frame(found)


def _shutdown_logger() -> None:
    global _logger, _logger_transport
    with _state_lock:
        if _logger is not None:
            try:
                _logger.close(timeout=60)
            finally:
                _logger = None
                if _logger_transport is not None:
                    _logger_transport.close()
                    _logger_transport = None


@atexit.register
def _at_exit() -> None:
    # A script that never calls end_run() still gets every metric stored and its runs
    # closed as FINISHED, as MLflow does.
    try:
        while _active_runs:
            _end(_active_runs[-1], RunStatus.FINISHED, raise_errors=False)
        _shutdown_logger()
    except Exception as exc:  # at exit there is no caller left to raise to
        _log.error("heron could not store everything at exit: %s", exc)
