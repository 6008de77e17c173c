"""Registered models, aliases, governance, audit, roles and lineage routes."""

from __future__ import annotations

from typing import Annotated, Literal

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

MODEL = "/registered-models/{name}"


@router.post("/registered-models", status_code=201, response_model=rg.ModelOut)
def create_model(body: rg.CreateModel, registry: RegistryDep, actor: ActorDep) -> Response:
    model = registry.create_model(body.name, actor, description=body.description, tags=body.tags)
    return json_response(wire.model_to_dict(model), 201)


@router.get("/registered-models", response_model=rg.ModelsPage)
def search_models(
    registry: RegistryDep,
    filter: Annotated[str | None, Query(description="e.g. name LIKE 'fraud%'")] = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    view: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int = 100,
    page_token: str | None = None,
) -> Response:
    page = registry.search_models(filter, order_by, view, max_results, page_token or None)
    return json_response(
        {
            "models": [wire.model_to_dict(m) for m in page.items],
            "next_page_token": page.next_page_token,
        }
    )


@router.get(MODEL, response_model=rg.ModelOut)
def get_model(name: str, registry: RegistryDep) -> Response:
    return json_response(wire.model_to_dict(registry.get_model(name)))


@router.patch(MODEL, response_model=rg.ModelOut)
def update_model(
    name: str, body: rg.UpdateModel, registry: RegistryDep, actor: ActorDep
) -> Response:
    model = registry.get_model(name)
    if body.description is not None:
        model = registry.update_model(name, body.description, actor)
    if body.new_name is not None:
        model = registry.rename_model(name, body.new_name, actor)
    return json_response(wire.model_to_dict(model))


@router.delete(MODEL, status_code=204)
def delete_model(name: str, registry: RegistryDep, actor: ActorDep) -> Response:
    registry.delete_model(name, actor)
    return no_content()


@router.post(MODEL + "/restore", status_code=204)
def restore_model(name: str, registry: RegistryDep, actor: ActorDep) -> Response:
    registry.restore_model(name, actor)
    return no_content()


@router.put(MODEL + "/tags/{key}", status_code=204)
def set_model_tag(
    name: str, key: str, body: rg.TagBody, registry: RegistryDep, actor: ActorDep
) -> Response:
    registry.set_model_tag(name, key, body.value, actor)
    return no_content()


@router.delete(MODEL + "/tags/{key}", status_code=204)
def delete_model_tag(name: str, key: str, registry: RegistryDep, actor: ActorDep) -> Response:
    registry.delete_model_tag(name, key, actor)
    return no_content()


@router.put(MODEL + "/policy", response_model=rg.ModelOut)
def set_policy(name: str, body: rg.Policy, registry: RegistryDep, actor: ActorDep) -> Response:
    model = registry.set_policy(
        name,
        actor,
        protected_aliases=body.protected_aliases,
        allow_self_approval=body.allow_self_approval,
    )
    return json_response(wire.model_to_dict(model))


# -- aliases ------------------------------------------------------------------------------


@router.put(MODEL + "/aliases", response_model=rg.ModelOut)
def move_aliases(
    name: str, body: rg.AliasesBody, registry: RegistryDep, actor: ActorDep
) -> Response:
    model = registry.move_aliases(
        name,
        body.aliases,
        actor,
        expected_revision=body.expected_revision,
        reason=body.reason,
    )
    return json_response(wire.model_to_dict(model))


@router.put(MODEL + "/aliases/{alias}", response_model=rg.ModelOut)
def set_alias(
    name: str, alias: str, body: rg.AliasBody, registry: RegistryDep, actor: ActorDep
) -> Response:
    model = registry.set_alias(
        name,
        alias,
        body.version,
        actor,
        expected_revision=body.expected_revision,
        reason=body.reason,
    )
    return json_response(wire.model_to_dict(model))


@router.delete(MODEL + "/aliases/{alias}", response_model=rg.ModelOut)
def delete_alias(name: str, alias: str, registry: RegistryDep, actor: ActorDep) -> Response:
    return json_response(wire.model_to_dict(registry.delete_alias(name, alias, actor)))


# -- transition requests ------------------------------------------------------------------


@router.post(MODEL + "/requests", status_code=201, response_model=rg.RequestOut)
def request_transition(
    name: str, body: rg.TransitionBody, registry: RegistryDep, actor: ActorDep
) -> Response:
    request = registry.request_transition(name, body.version, body.to, actor, comment=body.comment)
    return json_response(wire.request_to_dict(request), 201)


@router.get(MODEL + "/requests", response_model=rg.RequestList)
def list_requests(
    name: str,
    registry: RegistryDep,
    status: Annotated[str | None, Query(description="open, approved, rejected, cancelled")] = None,
) -> Response:
    requests = registry.list_requests(name, status or None)
    return json_response({"requests": [wire.request_to_dict(r) for r in requests]})


@router.post(MODEL + "/requests/{request_id}/{decision}", response_model=rg.RequestOut)
def resolve_request(
    name: str,
    request_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    decision: Literal["approve", "reject", "cancel"],
    body: rg.CommentBody,
    registry: RegistryDep,
    actor: ActorDep,
) -> Response:
    actions = {"approve": registry.approve, "reject": registry.reject, "cancel": registry.cancel}
    request = actions[decision](name, request_id, actor, comment=body.comment)
    return json_response(wire.request_to_dict(request))


# -- audit, roles, lineage -----------------------------------------------------------------


def _events(registry: RegistryDep, name: str | None, after_id: int, limit: int) -> Response:
    events = registry.history(name, after_id, limit)
    return json_response({"events": [wire.event_to_dict(e) for e in events]})


@router.get(MODEL + "/history", response_model=rg.EventList)
def model_history(
    name: str,
    registry: RegistryDep,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    return _events(registry, name, after_id, limit)


@router.get("/registry/history", response_model=rg.EventList)
def registry_history(
    registry: RegistryDep,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    return _events(registry, None, after_id, limit)


@router.get("/registry/roles/{user}", response_model=rg.RolesOut)
def get_roles(user: str, registry: RegistryDep) -> Response:
    roles = sorted(r.value for r in registry.roles_of(user))
    return json_response({"user": user, "roles": roles})


@router.put("/registry/roles/{user}/{role}", status_code=204)
def grant_role(user: str, role: str, registry: RegistryDep, actor: ActorDep) -> Response:
    registry.grant_role(user, role, actor)
    return no_content()


@router.delete("/registry/roles/{user}/{role}", status_code=204)
def revoke_role(user: str, role: str, registry: RegistryDep, actor: ActorDep) -> Response:
    registry.revoke_role(user, role, actor)
    return no_content()


@router.get("/lineage", response_model=rg.LineageOut)
def lineage(
    registry: RegistryDep,
    target: Annotated[
        str, Query(description="models:/name/1, models:/name@alias, runs:/<id> or dataset:<digest>")
    ],
) -> Response:
    return json_response(wire.lineage_to_dict(registry.lineage(target)))
