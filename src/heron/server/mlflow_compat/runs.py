"""MLflow's run routes (``/api/2.0/mlflow/runs/...``, ``metrics/get-history``)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.entities import Dataset, Metric, RunInput, RunStatus, RunTag
from heron.entities.logged_model import ModelMetric
from heron.errors import InvalidArgument
from heron.server.mlflow_compat import messages as m
from heron.server.mlflow_compat.dependencies import LoggedModelsDep, UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.mlflow_compat.experiments import experiment_id
from heron.server.mlflow_compat.search import heron_filter, heron_order_by
from heron.server.mlflow_compat.wire import (
    DATASET_CONTEXT_TAG,
    GIT_COMMIT_TAG,
    LOGGED_MODELS_TAG,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    SOURCE_NAME_TAG,
    USER_TAG,
    json_list,
    json_text_to_dict,
    metric_json,
    run_info_json,
    run_json,
)
from heron.server.responses import ServiceDep, json_response
from heron.services import TrackingService
from heron.services.validation import MAX_RESULTS

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

_EMPTY = b"{}"


def _ok() -> Response:
    return Response(_EMPTY, media_type="application/json")


@router.post("/runs/create")
def create_run(body: m.CreateRun, service: ServiceDep, uris: UrisDep) -> Response:
    tags = {tag.key: tag.value for tag in body.tags}
    # The run name lives in Heron's name field only; the other reserved tags also stay
    # tags, so that MLflow filters on them keep working.
    tag_name = tags.pop(RUN_NAME_TAG, None)
    run = service.create_run(
        experiment_id(service, body.experiment_id),
        run_name=body.run_name or tag_name,
        start_time=body.start_time,
        user=body.user_id or tags.get(USER_TAG, ""),
        source=tags.get(SOURCE_NAME_TAG, ""),
        git_commit=tags.get(GIT_COMMIT_TAG) or None,
        parent_run_id=tags.get(PARENT_RUN_TAG) or None,
        tags=tags,
    )
    return json_response({"run": run_json(run, uris)})


@router.post("/runs/update")
def update_run(body: m.UpdateRun, service: ServiceDep, uris: UrisDep) -> Response:
    run = service.update_run(
        body.the_run_id(),
        status=_status(body.status),
        end_time=body.end_time,
        run_name=body.run_name or None,
    )
    return json_response({"run_info": run_info_json(run, uris)})


def _status(text: str | None) -> RunStatus | None:
    if not text:
        return None
    try:
        return RunStatus(text.upper())
    except ValueError:
        valid = ", ".join(s.value for s in RunStatus)
        raise InvalidArgument(f"run status {text!r} is not one of {valid}") from None


@router.post("/runs/delete")
def delete_run(body: m.RunId, service: ServiceDep) -> Response:
    service.delete_run(body.the_run_id())
    return _ok()


@router.post("/runs/restore")
def restore_run(body: m.RunId, service: ServiceDep) -> Response:
    service.restore_run(body.the_run_id())
    return _ok()


@router.get("/runs/get")
def get_run(
    request: Request, service: ServiceDep, logged_models: LoggedModelsDep, uris: UrisDep
) -> Response:
    query = request.query_params
    run_id = query.get("run_id") or query.get("run_uuid")
    if not run_id:
        raise InvalidArgument("Missing value for required parameter 'run_id'")
    run = service.get_run(run_id)
    body = run_json(run, uris, service.latest_metrics([run.id]).get(run.id, ()))
    # MLflow 3 tells logged models of one run apart by the step they were logged at.
    outputs = logged_models.model_outputs(run.id)
    if outputs:
        body["outputs"] = {
            "model_outputs": [{"model_id": o.model_id, "step": o.step} for o in outputs]
        }
    return json_response({"run": body})


@router.post("/runs/search")
def search_runs(body: m.SearchRuns, service: ServiceDep, uris: UrisDep) -> Response:
    page = service.search_runs(
        [experiment_id(service, e) for e in body.experiment_ids],
        filter_string=heron_filter(body.filter),
        order_by=heron_order_by(body.order_by),
        view=m.view_type(body.run_view_type),
        max_results=body.max_results,
        page_token=body.page_token or None,
    )
    latest = service.latest_metrics([run.id for run in page.items]) if page.items else {}
    runs = [run_json(run, uris, latest.get(run.id, ())) for run in page.items]
    out: dict[str, object] = {"runs": runs}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


@router.post("/runs/log-metric")
def log_metric(body: m.LogMetric, service: ServiceDep, logged_models: LoggedModelsDep) -> Response:
    run_id = body.the_run_id()
    service.log_metric(run_id, body.key, body.value, step=body.step, timestamp=body.timestamp)
    if body.model_id:
        logged_models.log_metrics(run_id, [_model_point(body)])
    return _ok()


def _model_point(body: m.MetricBody | m.LogMetric) -> tuple[str, ModelMetric]:
    assert body.model_id
    point = ModelMetric(
        body.key,
        body.value,
        body.timestamp,
        body.step,
        dataset_name=body.dataset_name or None,
        dataset_digest=body.dataset_digest or None,
    )
    return body.model_id, point


@router.post("/runs/log-parameter")
def log_param(body: m.LogParam, service: ServiceDep) -> Response:
    service.log_param(body.the_run_id(), body.key, body.value)
    return _ok()


@router.post("/runs/set-tag")
def set_tag(body: m.SetTag, service: ServiceDep) -> Response:
    _log_tags(service, body.the_run_id(), [RunTag(body.key, body.value)])
    return _ok()


@router.post("/runs/delete-tag")
def delete_tag(body: m.DeleteTag, service: ServiceDep) -> Response:
    service.delete_tag(body.the_run_id(), body.key)
    return _ok()


@router.post("/runs/log-batch")
def log_batch(body: m.LogBatch, service: ServiceDep, logged_models: LoggedModelsDep) -> Response:
    run_id = body.the_run_id()
    metrics, params, tags = body.entities()
    renamed = _apply_run_name(service, run_id, tags)
    service.log_batch(run_id, metrics=metrics, params=params, tags=renamed)
    linked = [_model_point(p) for p in body.metrics if p.model_id]
    if linked:
        logged_models.log_metrics(run_id, linked)
    return _ok()


def _log_tags(service: TrackingService, run_id: str, tags: list[RunTag]) -> None:
    remaining = _apply_run_name(service, run_id, tags)
    if remaining:
        service.log_batch(run_id, tags=remaining)


def _apply_run_name(service: TrackingService, run_id: str, tags: list[RunTag]) -> list[RunTag]:
    """Setting the ``mlflow.runName`` tag renames the run, as on MLflow's server."""
    names = [tag.value for tag in tags if tag.key == RUN_NAME_TAG]
    if names:
        service.update_run(run_id, run_name=names[-1])
    return [tag for tag in tags if tag.key != RUN_NAME_TAG]


@router.post("/runs/log-model")
def log_model(body: m.LogModel, service: ServiceDep) -> Response:
    """MLflow's ``log_model`` records each model's MLmodel summary in a run tag (the
    UI's list of a run's models), as its server does."""
    run_id = body.the_run_id()
    try:
        summary = json.loads(body.model_json)
    except ValueError:
        raise InvalidArgument("model_json must be the model's MLmodel as JSON") from None
    history = json_list(service.get_run(run_id).tags.get(LOGGED_MODELS_TAG))
    service.set_tag(run_id, LOGGED_MODELS_TAG, json.dumps([*history, summary]))
    return _ok()


@router.post("/runs/log-inputs")
def log_inputs(body: m.LogInputs, service: ServiceDep) -> Response:
    inputs = []
    for given in body.datasets:
        dataset = given.dataset
        context = next((t.value for t in given.tags if t.key == DATASET_CONTEXT_TAG), "")
        inputs.append(
            RunInput(
                Dataset(
                    name=dataset.name,
                    digest=dataset.digest,
                    source_type=dataset.source_type,
                    source=dataset.source,
                    schema=json_text_to_dict(dataset.dataset_schema),
                    profile=json_text_to_dict(dataset.profile),
                ),
                context,
            )
        )
    if inputs:
        service.log_inputs(body.the_run_id(), inputs)
    return _ok()


@router.get("/metrics/get-history")
def get_metric_history(request: Request, service: ServiceDep) -> Response:
    query = request.query_params
    run_id = query.get("run_id") or query.get("run_uuid")
    key = query.get("metric_key")
    if not run_id or not key:
        missing = "run_id" if not run_id else "metric_key"
        raise InvalidArgument(f"Missing value for required parameter '{missing}'")
    token = query.get("page_token") or None
    given_max = query.get("max_results")
    if given_max is not None:
        page = service.get_metric_history(
            run_id, key, max_results=_positive_int("max_results", given_max), page_token=token
        )
        out: dict[str, object] = {"metrics": [metric_json(p) for p in page.items]}
        if page.next_page_token:
            out["next_page_token"] = page.next_page_token
        return json_response(out)
    # Without max_results MLflow's server answers with the whole series.
    points: list[dict[str, object]] = []
    while True:
        page = service.get_metric_history(run_id, key, max_results=MAX_RESULTS, page_token=token)
        points.extend(metric_json(p) for p in page.items)
        token = page.next_page_token
        if not token:
            return json_response({"metrics": points})


# MLflow's limits for get-history-bulk-interval (MAX_RUNS_GET_METRIC_HISTORY_BULK and
# MAX_RESULTS_PER_RUN in mlflow/server/handlers.py).
MAX_BULK_RUNS = 100
MAX_BULK_POINTS_PER_RUN = 2500


@router.get("/metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval(request: Request, service: ServiceDep) -> Response:
    """A sample of one metric's history in each of several runs (MLflow's UI charts)."""
    query = request.query_params
    run_ids = query.getlist("run_ids")
    key = query.get("metric_key")
    if not run_ids or not key:
        missing = "run_ids" if not run_ids else "metric_key"
        raise InvalidArgument(f"Missing value for required parameter '{missing}'")
    if len(run_ids) > MAX_BULK_RUNS:
        raise InvalidArgument(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_RUNS} "
            f"run_ids. Received {len(run_ids)} run_ids."
        )
    max_results = _positive_int("max_results", query.get("max_results", "2500"))
    if not 1 <= max_results <= MAX_BULK_POINTS_PER_RUN:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_BULK_POINTS_PER_RUN}.")
    start, end = query.get("start_step"), query.get("end_step")
    if (start is None) != (end is None):
        raise InvalidArgument(
            "If either start step or end step are specified, both must be specified."
        )
    steps = None
    if start is not None and end is not None:
        steps = (_positive_int("start_step", start), _positive_int("end_step", end))
        if steps[0] > steps[1]:
            raise InvalidArgument(
                "end_step must be greater than start_step. "
                f"Found start_step={steps[0]} and end_step={steps[1]}."
            )
    for run_id in run_ids:
        service.get_run(run_id)  # every run must exist before anything is answered
    out = []
    for run_id in run_ids:
        for point in sample_history(service, run_id, key, max_results, steps):
            out.append({**metric_json(point), "run_id": run_id})
    return json_response({"metrics": out})


def sample_history(
    service: TrackingService,
    run_id: str,
    key: str,
    max_results: int,
    steps: tuple[int, int] | None,
) -> list[Metric]:
    """At most ``max_results`` points of the series, sampled as MLflow's SQL store does:
    the series (within ``steps``) cut into ``max_results`` near-equal buckets by
    position (SQL's NTILE), the first point of each, and always the last point."""
    series: list[Metric] = []
    token = None
    while True:
        page = service.get_metric_history(run_id, key, max_results=MAX_RESULTS, page_token=token)
        if steps is None:
            series.extend(page.items)
        else:
            series.extend(p for p in page.items if steps[0] <= p.step <= steps[1])
        token = page.next_page_token
        if not token:
            break
    count = len(series)
    if count <= max_results:
        return series
    size, larger = divmod(count, max_results)
    # NTILE gives the first ``larger`` buckets one point more than the others.
    picked = [series[i * size + min(i, larger)] for i in range(max_results)]
    picked[-1] = series[-1]
    return picked


def _positive_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"{name} must be an integer, got {text!r}") from None
