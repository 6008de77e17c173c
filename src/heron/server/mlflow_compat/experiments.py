"""MLflow's experiment routes (``/api/2.0/mlflow/experiments/...``) on TrackingService."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.entities import Experiment, LifecycleStage
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

MLFLOW_EXPERIMENT_ORDER = ["creation_time DESC", "experiment_id ASC"]


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
    page = service.search_experiments(
        view=m.view_type(body.view_type),
        max_results=body.max_results,
        page_token=body.page_token or None,
        filter_string=body.filter,
        # MLflow's server lists the newest experiments first unless told otherwise.
        order_by=[c for c in body.order_by if c.strip()] or MLFLOW_EXPERIMENT_ORDER,
    )
    out: dict[str, object] = {"experiments": [experiment_json(e, uris) for e in page.items]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


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
    given = _active_experiment_id(service, body.experiment_id)
    service.set_experiment_tag(given, body.key, body.value)
    return json_response({})


@router.post("/experiments/delete-experiment-tag")
def delete_experiment_tag(body: m.DeleteExperimentTag, service: ServiceDep) -> Response:
    service.delete_experiment_tag(_active_experiment_id(service, body.experiment_id), body.key)
    return json_response({})


def _active_experiment_id(service: TrackingService, given: str) -> str:
    """MLflow's server changes the tags of active experiments only."""
    experiment = service.get_experiment(experiment_id(service, given))
    if experiment.lifecycle_stage is not LifecycleStage.ACTIVE:
        raise InvalidArgument(
            f"The experiment {experiment.id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage.value}."
        )
    return experiment.id


def _required_query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidArgument(f"Missing value for required parameter '{name}'")
    return value
