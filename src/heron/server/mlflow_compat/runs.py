"""MLflow's run routes (``/api/2.0/mlflow/runs/...``, ``metrics/get-history``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.entities import Dataset, Metric, Param, RunInput, RunStatus, RunTag
from heron.errors import InvalidArgument
from heron.server.mlflow_compat import messages as m
from heron.server.mlflow_compat.dependencies import LoggedModelsDep, UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.mlflow_compat.experiments import experiment_id
from heron.server.mlflow_compat.search import heron_filter, heron_order_by
from heron.server.mlflow_compat.wire import (
    DATASET_CONTEXT_TAG,
    GIT_COMMIT_TAG,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    SOURCE_NAME_TAG,
    USER_TAG,
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
    body = run_json(run, uris)
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
    out: dict[str, object] = {"runs": [run_json(run, uris) for run in page.items]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


@router.post("/runs/log-metric")
def log_metric(body: m.LogMetric, service: ServiceDep) -> Response:
    service.log_metric(
        body.the_run_id(), body.key, body.value, step=body.step, timestamp=body.timestamp
    )
    return _ok()


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
def log_batch(body: m.LogBatch, service: ServiceDep) -> Response:
    run_id = body.the_run_id()
    tags = [RunTag(t.key, t.value) for t in body.tags]
    renamed = _apply_run_name(service, run_id, tags)
    service.log_batch(
        run_id,
        metrics=[Metric(p.key, p.value, p.timestamp, p.step) for p in body.metrics],
        params=[Param(p.key, p.value) for p in body.params],
        tags=renamed,
    )
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


def _positive_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"{name} must be an integer, got {text!r}") from None
