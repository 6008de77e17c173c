"""Serving endpoints: the control plane that scoring servers poll (docs/rest-api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from heron.entities.endpoint import (
    Endpoint,
    EndpointBatching,
    EndpointRoute,
    endpoint_to_dict,
)
from heron.server.body_limit import LimitedBodyRoute
from heron.server.request_models import _RequestBody
from heron.server.response_models import JSON_BODY_ERROR_RESPONSES, ErrorBody
from heron.server.responses import json_response, no_content, server_state
from heron.services.endpoints import EndpointService
from heron.store import SqlEndpointStore

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **JSON_BODY_ERROR_RESPONSES,
    409: {"model": ErrorBody, "description": "the name is taken, or the revision moved on"},
}

router = APIRouter(
    prefix="/api/v1", tags=["endpoints"], route_class=LimitedBodyRoute, responses=ERROR_RESPONSES
)

ENDPOINT = "/endpoints/{name}"


async def _endpoints(request: Request) -> EndpointService:
    # Two small objects over the server's open engines: cheaper than state to keep.
    return EndpointService(SqlEndpointStore(server_state(request).store.engines))


EndpointsDep = Annotated[EndpointService, Depends(_endpoints)]


class RouteBody(_RequestBody):
    model_uri: str = Field(description="models:/name/3, models:/name@alias or runs:/<id>/path")
    weight: int = Field(ge=0, le=1_000_000, description="relative traffic weight")


class BatchingBody(_RequestBody):
    max_batch_size: int = Field(default=1, ge=1, description="1: batching off")
    max_latency_ms: float = Field(default=2.0, ge=0)


class CreateEndpoint(_RequestBody):
    name: str
    routes: list[RouteBody]
    shadows: list[str] = Field(default_factory=list)
    batching: BatchingBody | None = None
    description: str = ""


class UpdateEndpoint(_RequestBody):
    routes: list[RouteBody] | None = None
    shadows: list[str] | None = None
    batching: BatchingBody | None = None
    description: str | None = None
    expected_revision: int | None = Field(
        default=None, ge=1, description="409 if the endpoint changed since this revision"
    )


class RouteOut(BaseModel):
    model_uri: str
    weight: int


class BatchingOut(BaseModel):
    max_batch_size: int
    max_latency_ms: float


class EndpointOut(BaseModel):
    name: str
    description: str
    routes: list[RouteOut]
    shadows: list[str]
    batching: BatchingOut
    revision: int
    created_at: int
    updated_at: int


class EndpointsOut(BaseModel):
    endpoints: list[EndpointOut]


def _routes(body: list[RouteBody] | None) -> list[EndpointRoute] | None:
    return None if body is None else [EndpointRoute(r.model_uri, r.weight) for r in body]


def _batching(body: BatchingBody | None) -> EndpointBatching | None:
    return None if body is None else EndpointBatching(body.max_batch_size, body.max_latency_ms)


def _out(endpoint: Endpoint, status: int = 200) -> Response:
    return json_response(endpoint_to_dict(endpoint), status)


@router.post("/endpoints", status_code=201, response_model=EndpointOut)
def create_endpoint(body: CreateEndpoint, endpoints: EndpointsDep) -> Response:
    endpoint = endpoints.create_endpoint(
        body.name,
        _routes(body.routes) or [],
        shadows=body.shadows,
        batching=_batching(body.batching),
        description=body.description,
    )
    return _out(endpoint, 201)


@router.get("/endpoints", response_model=EndpointsOut)
def list_endpoints(endpoints: EndpointsDep) -> Response:
    return json_response({"endpoints": [endpoint_to_dict(e) for e in endpoints.list_endpoints()]})


@router.get(ENDPOINT, response_model=EndpointOut)
def get_endpoint(name: str, endpoints: EndpointsDep) -> Response:
    return _out(endpoints.get_endpoint(name))


@router.patch(ENDPOINT, response_model=EndpointOut)
def update_endpoint(name: str, body: UpdateEndpoint, endpoints: EndpointsDep) -> Response:
    endpoint = endpoints.update_endpoint(
        name,
        routes=_routes(body.routes),
        shadows=body.shadows,
        batching=_batching(body.batching),
        description=body.description,
        expected_revision=body.expected_revision,
    )
    return _out(endpoint)


@router.delete(ENDPOINT, status_code=204)
def delete_endpoint(name: str, endpoints: EndpointsDep) -> Response:
    endpoints.delete_endpoint(name)
    return no_content()
