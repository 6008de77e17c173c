"""MLflow's registered-model routes (``/api/2.0/mlflow/registered-models/...``) on
RegistryService: the same models, rules, governance and audit as Heron's own API."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import APIRouter, Request
from starlette.responses import Response

from heron.entities import LifecycleStage
from heron.entities.model_uri import ModelReference
from heron.entities.registry import ModelVersion, RegisteredModel, Stage
from heron.errors import InvalidArgument, NotFound
from heron.server.mlflow_compat import registry_messages as rm
from heron.server.mlflow_compat.dependencies import MlflowActorDep, UrisDep
from heron.server.mlflow_compat.errors import MlflowRoute
from heron.server.mlflow_compat.registry_wire import model_version_json, registered_model_json
from heron.server.mlflow_compat.wire import ArtifactUris
from heron.server.responses import RegistryDep, json_response
from heron.services.registry import RegistryService
from heron.services.validation import MAX_RESULTS

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

# MLflow's server answers a registered-model search with 100 models unless asked.
DEFAULT_MODELS_PER_PAGE = 100


def query_body(request: Request, model: type[rm.SearchRegistry]) -> rm.SearchRegistry:
    """A GET route's query as its request message (``order_by`` may repeat)."""
    query = request.query_params
    return model.model_validate(
        {
            **{k: v for k, v in query.items() if k != "order_by"},
            "order_by": query.getlist("order_by"),
        }
    )


# MLflow's client appends this clause to every registry search to hide its prompts
# (models tagged mlflow.prompt.is_prompt=true). Read with Heron's tag semantics, where
# != needs the tag to exist, it would hide every model; Heron's registry holds no
# prompts, so the clause is dropped.
_HIDE_PROMPTS = re.compile(
    r"^\s*tags?\.`mlflow\.prompt\.is_prompt`\s*!=\s*'true'\s*$"
    r"|\s+AND\s+tags?\.`mlflow\.prompt\.is_prompt`\s*!=\s*'true'\s*$",
    re.IGNORECASE,
)


def registry_filter(mlflow_filter: str | None) -> str | None:
    """An MLflow registry filter as Heron's registry reads it."""
    if not mlflow_filter:
        return None
    return _HIDE_PROMPTS.sub("", mlflow_filter) or None


def required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidArgument(f"Missing value for required parameter '{name}'")
    return value


def active_model(registry: RegistryService, name: str) -> RegisteredModel:
    """A deleted model is gone for MLflow's client, as on MLflow's server."""
    model = registry.get_model(name)
    if model.lifecycle_stage is LifecycleStage.DELETED:
        raise NotFound(f"Registered Model with name={name} not found (it is deleted)")
    return model


def latest_versions(
    registry: RegistryService, names: Sequence[str], stages: Sequence[Stage] = ()
) -> dict[str, list[ModelVersion]]:
    """The newest live version in each stage (of ``stages``, or all) of each model."""
    found: dict[str, dict[Stage, ModelVersion]] = {name: {} for name in names}
    if not names:
        return {}
    quoted = ", ".join(_string_literal(name) for name in names)
    token: str | None = None
    while True:
        # Ordered by name, then version descending: the first seen per stage is the newest.
        page = registry.search_versions(
            f"name IN ({quoted})", max_results=MAX_RESULTS, page_token=token
        )
        for version in page.items:
            if not stages or version.stage in stages:
                found[version.name].setdefault(version.stage, version)
        token = page.next_page_token
        if not token:
            break
    return {
        name: sorted(by_stage.values(), key=lambda v: v.version) for name, by_stage in found.items()
    }


def _string_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _model_response(registry: RegistryService, name: str, uris: ArtifactUris) -> Response:
    model = active_model(registry, name)
    latest = latest_versions(registry, [model.name])[model.name]
    return json_response({"registered_model": registered_model_json(model, latest, uris)})


@router.post("/registered-models/create")
def create_registered_model(
    body: rm.CreateRegisteredModel, registry: RegistryDep, actor: MlflowActorDep, uris: UrisDep
) -> Response:
    model = registry.create_model(
        body.name,
        actor,
        description=body.description,
        tags={tag.key: tag.value for tag in body.tags},
    )
    return json_response({"registered_model": registered_model_json(model, [], uris)})


@router.get("/registered-models/get")
def get_registered_model(request: Request, registry: RegistryDep, uris: UrisDep) -> Response:
    return _model_response(registry, required(request, "name"), uris)


@router.post("/registered-models/rename")
def rename_registered_model(
    body: rm.RenameRegisteredModel, registry: RegistryDep, actor: MlflowActorDep, uris: UrisDep
) -> Response:
    active_model(registry, body.name)
    registry.rename_model(body.name, body.new_name, actor)
    return _model_response(registry, body.new_name, uris)


@router.patch("/registered-models/update")
def update_registered_model(
    body: rm.UpdateRegisteredModel, registry: RegistryDep, actor: MlflowActorDep, uris: UrisDep
) -> Response:
    active_model(registry, body.name)
    registry.update_model(body.name, body.description or "", actor)
    return _model_response(registry, body.name, uris)


@router.delete("/registered-models/delete")
def delete_registered_model(
    body: rm.ModelName, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    active_model(registry, body.name)
    # MLflow deletes for good, so its users expect to reuse the name; Heron keeps the
    # model (and its audit history) under a new name instead (docs/mlflow-compat.md).
    registry.delete_model(body.name, actor, free_name=True)
    return json_response({})


@router.get("/registered-models/search")
def search_registered_models(request: Request, registry: RegistryDep, uris: UrisDep) -> Response:
    body = query_body(request, rm.SearchRegistry)
    page = registry.search_models(
        registry_filter(body.filter),
        [clause for clause in body.order_by if clause.strip()],
        max_results=body.max_results or DEFAULT_MODELS_PER_PAGE,
        page_token=body.page_token or None,
    )
    latest = latest_versions(registry, [model.name for model in page.items])
    out: dict[str, object] = {
        "registered_models": [
            registered_model_json(model, latest[model.name], uris) for model in page.items
        ]
    }
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return json_response(out)


@router.post("/registered-models/get-latest-versions")
def get_latest_versions(
    body: rm.GetLatestVersions, registry: RegistryDep, uris: UrisDep
) -> Response:
    active_model(registry, body.name)
    try:
        stages = [Stage.parse(stage) for stage in body.stages]
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    latest = latest_versions(registry, [body.name], stages)[body.name]
    return json_response({"model_versions": [model_version_json(v, uris) for v in latest]})


@router.get("/registered-models/get-latest-versions")
def get_latest_versions_by_query(
    request: Request, registry: RegistryDep, uris: UrisDep
) -> Response:
    body = rm.GetLatestVersions(
        name=required(request, "name"), stages=request.query_params.getlist("stages")
    )
    return get_latest_versions(body, registry, uris)


@router.post("/registered-models/set-tag")
def set_registered_model_tag(
    body: rm.RegisteredModelTag, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    active_model(registry, body.name)
    registry.set_model_tag(body.name, body.key, body.value, actor)
    return json_response({})


@router.delete("/registered-models/delete-tag")
def delete_registered_model_tag(
    body: rm.DeleteRegisteredModelTag, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    active_model(registry, body.name)
    registry.delete_model_tag(body.name, body.key, actor)
    return json_response({})


@router.post("/registered-models/alias")
def set_registered_model_alias(
    body: rm.SetAlias, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    active_model(registry, body.name)
    registry.set_alias(body.name, body.alias, rm.version_number(body.version), actor)
    return json_response({})


@router.delete("/registered-models/alias")
def delete_registered_model_alias(
    body: rm.DeleteAlias, registry: RegistryDep, actor: MlflowActorDep
) -> Response:
    active_model(registry, body.name)
    registry.delete_alias(body.name, body.alias, actor)
    return json_response({})


@router.get("/registered-models/alias")
def get_model_version_by_alias(request: Request, registry: RegistryDep, uris: UrisDep) -> Response:
    name, alias = required(request, "name"), required(request, "alias")
    version = registry.resolve(ModelReference(name, alias=alias))
    return json_response({"model_version": model_version_json(version, uris)})
