"""MLflow 3's logged models (``/api/2.0/mlflow/logged-models...``, ``runs/outputs``).

``mlflow.<flavor>.log_model`` creates a logged model, uploads its files through the
artifact proxy (under ``<experiment>/models/<model_id>/artifacts``, see ``artifacts``),
records it as an output of the run and finalizes it; ``mlflow.register_model`` then
finds it by searching the run's experiment and registers ``models:/<model_id>``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.errors import InvalidArgument
from heron.server.mlflow_compat import registry_messages as rm
from heron.server.mlflow_compat.dependencies import LoggedModelsDep, MlflowActorDep, UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.mlflow_compat.experiments import experiment_id
from heron.server.mlflow_compat.registry_wire import LOGGED_MODEL_STATUS_BY_NAME, logged_model_json
from heron.server.mlflow_compat.wire import file_info_json
from heron.server.responses import ServiceDep, json_response
from heron.services.logged_model_search import SortKey

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

DEFAULT_MODELS_PER_PAGE = 100


@router.post("/logged-models")
def create_logged_model(
    body: rm.CreateLoggedModel,
    logged_models: LoggedModelsDep,
    tracking: ServiceDep,
    actor: MlflowActorDep,
    uris: UrisDep,
) -> Response:
    model = logged_models.create_logged_model(
        experiment_id(tracking, body.experiment_id),
        name=body.name,
        creator=actor,
        source_run_id=body.source_run_id or None,
        model_type=body.model_type or "",
        tags={tag.key: tag.value for tag in body.tags},
        params={param.key: param.value for param in body.params},
    )
    return json_response({"model": logged_model_json(model, uris)})


@router.post("/logged-models/search")
def search_logged_models(
    body: rm.SearchLoggedModels,
    logged_models: LoggedModelsDep,
    tracking: ServiceDep,
    uris: UrisDep,
) -> Response:
    page = logged_models.search_logged_models(
        [experiment_id(tracking, e) for e in body.experiment_ids],
        body.filter or None,
        [SortKey(o.field_name, o.ascending) for o in body.order_by],
        body.max_results or DEFAULT_MODELS_PER_PAGE,
        body.page_token or None,
    )
    out: dict[str, object] = {"models": [logged_model_json(m, uris) for m in page]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


@router.get("/logged-models/{model_id}")
def get_logged_model(
    model_id: str, request: Request, logged_models: LoggedModelsDep, uris: UrisDep
) -> Response:
    allow_deleted = request.query_params.get("allow_deleted", "").lower() == "true"
    model = logged_models.get_logged_model(model_id, allow_deleted=allow_deleted)
    return json_response({"model": logged_model_json(model, uris)})


@router.patch("/logged-models/{model_id}")
def finalize_logged_model(
    model_id: str, body: rm.FinalizeLoggedModel, logged_models: LoggedModelsDep, uris: UrisDep
) -> Response:
    status = LOGGED_MODEL_STATUS_BY_NAME.get(body.status.upper())
    if status is None:
        valid = ", ".join(name for name in LOGGED_MODEL_STATUS_BY_NAME if not name.isdigit())
        raise InvalidArgument(f"logged model status {body.status!r} is not one of {valid}")
    model = logged_models.finalize_logged_model(model_id, status)
    return json_response({"model": logged_model_json(model, uris)})


@router.delete("/logged-models/{model_id}")
def delete_logged_model(model_id: str, logged_models: LoggedModelsDep) -> Response:
    logged_models.delete_logged_model(model_id)
    return json_response({})


@router.patch("/logged-models/{model_id}/tags")
def set_logged_model_tags(
    model_id: str, body: rm.LoggedModelTags, logged_models: LoggedModelsDep
) -> Response:
    logged_models.set_logged_model_tags(model_id, {tag.key: tag.value for tag in body.tags})
    return json_response({})


@router.delete("/logged-models/{model_id}/tags/{tag_key:path}")
def delete_logged_model_tag(
    model_id: str, tag_key: str, logged_models: LoggedModelsDep
) -> Response:
    logged_models.delete_logged_model_tag(model_id, tag_key)
    return json_response({})


@router.post("/logged-models/{model_id}/params")
def log_logged_model_params(
    model_id: str, body: rm.LoggedModelParams, logged_models: LoggedModelsDep
) -> Response:
    logged_models.log_logged_model_params(model_id, {p.key: p.value for p in body.params})
    return json_response({})


@router.get("/logged-models/{model_id}/artifacts/directories")
def list_logged_model_artifacts(
    model_id: str, request: Request, logged_models: LoggedModelsDep, uris: UrisDep
) -> Response:
    path = request.query_params.get("artifact_directory_path") or None
    model = logged_models.get_logged_model(model_id)
    files = logged_models.list_artifacts(model_id, path)
    return json_response(
        {
            "root_uri": uris.to_mlflow(model.artifact_location),
            "files": [file_info_json(f, f.path) for f in files],
        }
    )


@router.post("/runs/outputs")
def log_outputs(body: rm.LogOutputs, logged_models: LoggedModelsDep) -> Response:
    logged_models.log_outputs(body.run_id, [(m.model_id, m.step) for m in body.models])
    return json_response({})
