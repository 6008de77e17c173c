"""MLflow's experiment routes (``/api/2.0/mlflow/experiments/...``) on TrackingService."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.entities import Experiment
from heron.errors import InvalidArgument
from heron.server.mlflow_compat import messages as m
from heron.server.mlflow_compat.dependencies import UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.mlflow_compat.wire import ArtifactUris, experiment_json
from heron.server.responses import ServiceDep, json_response
from heron.services import DEFAULT_EXPERIMENT_NAME, TrackingService

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

# MLflow's default experiment has id "0"; Heron's ids start at 1, so "0" names Heron's
# default experiment (created on first use), which is where MLflow's client puts runs
# when no experiment was chosen.
MLFLOW_DEFAULT_EXPERIMENT_ID = "0"

# The experiment filters this server understands: on the name, as MLflow's UI sends them.
_NAME_FILTER = re.compile(
    r"^\s*(?:(?:attributes?|attr)\.)?name\s*(=|LIKE)\s*'((?:[^'\\]|\\.)*)'\s*$", re.IGNORECASE
)


def experiment_id(service: TrackingService, given: str) -> str:
    """Heron's id for an experiment id sent by an MLflow client."""
    if given == MLFLOW_DEFAULT_EXPERIMENT_ID:
        return service.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME).id
    return given


def _one(experiment: Experiment, uris: ArtifactUris) -> Response:
    return json_response({"experiment": experiment_json(experiment, uris)})


@router.post("/experiments/create")
def create_experiment(body: m.CreateExperiment, service: ServiceDep, uris: UrisDep) -> Response:
    location = uris.from_mlflow(body.artifact_location) if body.artifact_location else None
    if location is not None and not location.startswith(uris.root + "/"):
        # The server writes artifacts with its own rights: a client must not point that
        # at arbitrary places, as in Heron's own route.
        raise InvalidArgument(
            f"artifact_location must be inside this server's artifact root "
            f"(mlflow-artifacts:/...), got {body.artifact_location!r}; omit it to let the "
            "server choose"
        )
    experiment = service.create_experiment(
        body.name,
        artifact_location=location,
        tags={tag.key: tag.value for tag in body.tags},
    )
    return json_response({"experiment_id": experiment.id})


@router.get("/experiments/get")
def get_experiment(request: Request, service: ServiceDep, uris: UrisDep) -> Response:
    given = _required_query(request, "experiment_id")
    return _one(service.get_experiment(experiment_id(service, given)), uris)


@router.get("/experiments/get-by-name")
def get_experiment_by_name(request: Request, service: ServiceDep, uris: UrisDep) -> Response:
    name = _required_query(request, "experiment_name")
    return _one(service.get_experiment_by_name(name), uris)


@router.post("/experiments/search")
def search_experiments(body: m.SearchExperiments, service: ServiceDep, uris: UrisDep) -> Response:
    return _search(body, service, uris)


@router.get("/experiments/search")
def search_experiments_by_query(request: Request, service: ServiceDep, uris: UrisDep) -> Response:
    query = request.query_params
    body = m.SearchExperiments.model_validate(
        {
            **{k: v for k, v in query.items() if k != "order_by"},
            "order_by": query.getlist("order_by"),
        }
    )
    return _search(body, service, uris)


def _search(body: m.SearchExperiments, service: TrackingService, uris: ArtifactUris) -> Response:
    if any(clause.strip() for clause in body.order_by):
        raise InvalidArgument(
            "order_by is not supported when searching experiments: they are listed by id"
        )
    view = m.view_type(body.view_type)
    operator, name = _name_filter(body.filter)
    if operator == "=":
        found = service.find_experiment_by_name(name)
        matches = [found] if found and found.lifecycle_stage.value in view.stages() else []
        return json_response({"experiments": [experiment_json(e, uris) for e in matches]})
    page = service.search_experiments(
        view=view,
        name_like=name if operator else None,
        max_results=body.max_results,
        page_token=body.page_token or None,
    )
    out: dict[str, object] = {"experiments": [experiment_json(e, uris) for e in page.items]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


def _name_filter(mlflow_filter: str | None) -> tuple[str, str]:
    """The operator ("=", "LIKE" or "" for no filter) and the name or pattern."""
    if not mlflow_filter or not mlflow_filter.strip():
        return "", ""
    match = _NAME_FILTER.match(mlflow_filter)
    if match is None:
        raise InvalidArgument(
            f"unsupported experiment filter {mlflow_filter!r}: filter on the name, e.g. "
            "\"name = 'mnist'\" or \"name LIKE 'mnist%'\""
        )
    return match.group(1).upper(), re.sub(r"\\(.)", r"\1", match.group(2))


@router.post("/experiments/delete")
def delete_experiment(body: m.ExperimentId, service: ServiceDep) -> Response:
    service.delete_experiment(experiment_id(service, body.experiment_id))
    return json_response({})


@router.post("/experiments/restore")
def restore_experiment(body: m.ExperimentId, service: ServiceDep) -> Response:
    service.restore_experiment(experiment_id(service, body.experiment_id))
    return json_response({})


@router.post("/experiments/update")
def update_experiment(body: m.UpdateExperiment, service: ServiceDep) -> Response:
    if body.new_name:
        service.rename_experiment(experiment_id(service, body.experiment_id), body.new_name)
    return json_response({})


@router.post("/experiments/set-experiment-tag")
def set_experiment_tag(body: m.SetExperimentTag, service: ServiceDep) -> Response:
    service.set_experiment_tag(experiment_id(service, body.experiment_id), body.key, body.value)
    return json_response({})


def _required_query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidArgument(f"Missing value for required parameter '{name}'")
    return value
