"""Model version routes: register, read, search, update, stages, and model URI resolution."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from heron.entities import registry_wire as wire
from heron.server import registry_schemas as rg
from heron.server.body_limit import LimitedBodyRoute
from heron.server.responses import ActorDep, RegistryDep, json_response, no_content
from heron.store import ViewType

router = APIRouter(
    prefix="/api/v1",
    tags=["registry"],
    route_class=LimitedBodyRoute,
    responses=rg.REGISTRY_ERROR_RESPONSES,
)

VERSION = "/registered-models/{name}/versions/{version}"
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/model-versions", status_code=201, response_model=rg.VersionOut)
def register_version(body: rg.RegisterVersion, registry: RegistryDep, actor: ActorDep) -> Response:
    """Register the model folder ``source`` of a run as the next version of ``name``
    (the registered model is created if it does not exist)."""
    version = registry.register_model(
        body.source,
        body.name,
        actor,
        run_id=body.run_id,
        description=body.description,
        tags=body.tags,
    )
    return json_response(wire.version_to_dict(version), 201)


@router.get("/model-versions", response_model=rg.VersionsPage)
def search_versions(
    registry: RegistryDep,
    filter: Annotated[
        str | None, Query(description="e.g. name = 'fraud' AND stage = 'Production'")
    ] = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    view: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int = 100,
    page_token: str | None = None,
) -> Response:
    page = registry.search_versions(filter, order_by, view, max_results, page_token or None)
    return json_response(
        {
            "versions": [wire.version_to_dict(v) for v in page.items],
            "next_page_token": page.next_page_token,
        }
    )


@router.get("/model-versions/resolve", response_model=rg.ResolvedOut)
def resolve(
    registry: RegistryDep,
    uri: Annotated[
        str, Query(description="models:/name/3, models:/name@alias, models:/name/latest")
    ],
) -> Response:
    version = registry.resolve(uri)
    return json_response(
        {"version": wire.version_to_dict(version), "source_uri": registry.files_uri(version)}
    )


@router.get(VERSION, response_model=rg.VersionOut)
def get_version(name: str, version: VersionPath, registry: RegistryDep) -> Response:
    return json_response(wire.version_to_dict(registry.get_version(name, version)))


@router.patch(VERSION, response_model=rg.VersionOut)
def update_version(
    name: str, version: VersionPath, body: rg.UpdateVersion, registry: RegistryDep, actor: ActorDep
) -> Response:
    updated = registry.update_version(name, version, actor, description=body.description)
    return json_response(wire.version_to_dict(updated))


@router.delete(VERSION, status_code=204)
def delete_version(
    name: str, version: VersionPath, registry: RegistryDep, actor: ActorDep
) -> Response:
    registry.delete_version(name, version, actor)
    return no_content()


@router.post(VERSION + "/restore", status_code=204)
def restore_version(
    name: str, version: VersionPath, registry: RegistryDep, actor: ActorDep
) -> Response:
    registry.restore_version(name, version, actor)
    return no_content()


@router.put(VERSION + "/tags/{key}", status_code=204)
def set_version_tag(
    name: str,
    version: VersionPath,
    key: str,
    body: rg.TagBody,
    registry: RegistryDep,
    actor: ActorDep,
) -> Response:
    registry.set_version_tag(name, version, key, body.value, actor)
    return no_content()


@router.delete(VERSION + "/tags/{key}", status_code=204)
def delete_version_tag(
    name: str, version: VersionPath, key: str, registry: RegistryDep, actor: ActorDep
) -> Response:
    registry.delete_version_tag(name, version, key, actor)
    return no_content()


@router.put(VERSION + "/stage", response_model=rg.VersionOut)
def transition_stage(
    name: str, version: VersionPath, body: rg.StageBody, registry: RegistryDep, actor: ActorDep
) -> Response:
    moved = registry.transition_stage(
        name,
        version,
        body.stage,
        actor,
        archive_existing=body.archive_existing,
        reason=body.reason,
    )
    return json_response(wire.version_to_dict(moved))
