"""MLflow's model-version routes (``/api/2.0/mlflow/model-versions/...``) on RegistryService.

Sources arrive as MLflow's client sends them: ``runs:/<run_id>/<path>``, a run's artifact
URI (``mlflow-artifacts:/...``, turned back into the server's own URI here) or, for
MLflow 3's logged models, ``models:/<model_id>``. The registry checks each.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.entities import LifecycleStage
from heron.entities.registry import ModelVersion
from heron.errors import NotFound
from heron.server.mlflow_compat import registry_messages as rm
from heron.server.mlflow_compat.dependencies import LoggedModelsDep, MlflowActorDep, UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.mlflow_compat.registered_models import (
    active_model,
    query_body,
    registry_filter,
    required,
)
from heron.server.mlflow_compat.registry_wire import logged_model_id_of, model_version_json
from heron.server.mlflow_compat.wire import ArtifactUris
from heron.server.responses import RegistryDep, ServiceDep, json_response
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

# MLflow's server default for a model-version search page.
DEFAULT_VERSIONS_PER_PAGE = 10_000


def live_version(registry: RegistryService, name: str, version_text: str) -> ModelVersion:
    active_model(registry, name)
    version = registry.get_version(name, rm.version_number(version_text))
    if version.lifecycle_stage is LifecycleStage.DELETED:
        raise NotFound(f"Model Version (name={name}, version={version.version}) is deleted")
    return version


def _one(version: ModelVersion, uris: ArtifactUris) -> Response:
    return json_response({"model_version": model_version_json(version, uris)})


def _source(
    body: rm.CreateModelVersion, uris: ArtifactUris, logged_models: LoggedModelService
) -> str:
    source = uris.from_mlflow(body.source)
    if body.model_id and logged_model_id_of(source) is None:
        # The logged model's own files, named by their URI: register the logged model.
        location = logged_models.get_logged_model(body.model_id).artifact_location
        if source.rstrip("/") == location.rstrip("/"):
            return f"models:/{body.model_id}"
    return source


@router.post("/model-versions/create")
def create_model_version(
    body: rm.CreateModelVersion,
    registry: RegistryDep,
    logged_models: LoggedModelsDep,
    actor: MlflowActorDep,
    uris: UrisDep,
) -> Response:
    # MLflow's server registers versions of existing models only (register_model creates
    # the model first); Heron's register_model would create it.
    model = active_model(registry, body.name)
    version = registry.register_model(
        _source(body, uris, logged_models),
        body.name,
        actor,
        run_id=body.run_id or None,
        description=body.description,
        tags={tag.key: tag.value for tag in body.tags},
        model=model,
    )
    return _one(version, uris)


@router.get("/model-versions/get")
def get_model_version(request: Request, registry: RegistryDep, uris: UrisDep) -> Response:
    return _one(
        live_version(registry, required(request, "name"), required(request, "version")), uris
    )


@router.patch("/model-versions/update")
def update_model_version(
    body: rm.UpdateModelVersion, registry: RegistryDep, actor: MlflowActorDep, uris: UrisDep
) -> Response:
    version = live_version(registry, body.name, body.version)
    updated = registry.update_version(
        body.name, version.version, actor, description=body.description or ""
    )
    return _one(updated, uris)


@router.delete("/model-versions/delete")
def delete_model_version(
    body: rm.VersionRef, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    version = live_version(registry, body.name, body.version)
    registry.delete_version(body.name, version.version, actor)
    return json_response({})


@router.get("/model-versions/search")
def search_model_versions(request: Request, registry: RegistryDep, uris: UrisDep) -> Response:
    body = query_body(request, rm.SearchRegistry)
    page = registry.search_versions(
        registry_filter(body.filter),
        [clause for clause in body.order_by if clause.strip()],
        max_results=body.max_results or DEFAULT_VERSIONS_PER_PAGE,
        page_token=body.page_token or None,
    )
    out: dict[str, object] = {"model_versions": [model_version_json(v, uris) for v in page]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


@router.post("/model-versions/set-tag")
def set_model_version_tag(
    body: rm.ModelVersionTag, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    version = live_version(registry, body.name, body.version)
    registry.set_version_tag(body.name, version.version, body.key, body.value, actor)
    return json_response({})


@router.delete("/model-versions/delete-tag")
def delete_model_version_tag(
    body: rm.DeleteModelVersionTag, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    version = live_version(registry, body.name, body.version)
    registry.delete_version_tag(body.name, version.version, body.key, actor)
    return json_response({})


@router.get("/model-versions/get-download-uri")
def get_model_version_download_uri(
    request: Request,
    registry: RegistryDep,
    tracking: ServiceDep,
    logged_models: LoggedModelsDep,
    uris: UrisDep,
) -> Response:
    version = live_version(registry, required(request, "name"), required(request, "version"))
    model_id = logged_model_id_of(version.source)
    if model_id is not None:
        location = logged_models.get_logged_model(model_id, allow_deleted=True).artifact_location
    elif version.run_id is not None:
        root = tracking.get_run(version.run_id).artifact_uri.rstrip("/")
        location = f"{root}/{version.artifact_path}" if version.artifact_path else root
    else:
        location = version.source
    return json_response({"artifact_uri": uris.to_mlflow(location)})


@router.post("/model-versions/transition-stage")
def transition_model_version_stage(
    body: rm.TransitionStage, registry: RegistryDep, actor: MlflowActorDep, uris: UrisDep
) -> Response:
    version = live_version(registry, body.name, body.version)
    moved = registry.transition_stage(
        body.name,
        version.version,
        body.stage,
        actor,
        archive_existing=body.archive_existing_versions,
    )
    return _one(moved, uris)
