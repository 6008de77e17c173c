"""MLflow's REST API on a Heron server: the official ``mlflow`` client works unchanged.

A translation layer only: every route calls TrackingService, so runs logged through
MLflow's client are ordinary Heron runs (docs/mlflow-compat.md lists what is served).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.routing import APIRoute
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from heron.server.mlflow_compat import (
    artifacts,
    experiments,
    logged_models,
    model_versions,
    multipart,
    registered_models,
    runs,
    server_info,
)
from heron.server.mlflow_compat.errors import response_for

__all__ = ["include_mlflow_routes", "mlflow_routers"]

# MLflow's UI calls the same API under /ajax-api.
TRACKING_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts"
# MLflow 3's newer routes (server-info) live under version 3.0.
V3_PREFIXES = ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow")


def include_mlflow_routes(app: FastAPI, dependencies: Sequence[params.Depends] = ()) -> None:
    """Serve MLflow's routes from ``app``. They stay out of /openapi.json, which specifies
    Heron's own API (its error format, its fuzz tests); MLflow's API is MLflow's protos.

    Each prefix gets an app of its own, reached through one prefix test placed before
    Heron's routes. FastAPI (0.165) tries a request against the routes one by one, and
    with MLflow's ~130 routes included in the app, finding /api/2.0/mlflow/runs/log-metric
    took 170 us of every call (2 busy cores); through the prefix test, 1 us plus the
    search among that prefix's routes. ``dependencies`` are the app's own, applied here too.
    """
    groups: dict[str, list[APIRouter]] = {}
    for prefix, router in _routers():
        groups.setdefault(prefix, []).append(_prefixed(router, prefix))
    gates = []
    for prefix, routers in groups.items():
        sub_app = FastAPI(
            dependencies=list(dependencies), openapi_url=None, docs_url=None, redoc_url=None
        )
        sub_app.state = app.state  # the routes read the server's state from their app
        for router in routers:
            sub_app.include_router(router)
        sub_app.add_exception_handler(StarletteHTTPException, _unknown_route)
        gates.append(_PrefixRoute(prefix, sub_app))
    app.router.routes[0:0] = gates


def mlflow_routers() -> list[APIRouter]:
    """Every MLflow route this server has, with its whole path (the route inventory in
    docs/mlflow-compat.md is checked against these)."""
    return [_prefixed(router, prefix) for prefix, router in _routers()]


def _routers() -> list[tuple[str, APIRouter]]:
    pairs = []
    for prefix in TRACKING_PREFIXES:
        for router in (
            experiments.router,
            runs.router,
            artifacts.tracking_router,
            logged_models.router,
            registered_models.router,
            model_versions.router,
        ):
            pairs.append((prefix, router))
    pairs.extend((prefix, server_info.router) for prefix in V3_PREFIXES)
    for router in (artifacts.proxy_router, multipart.router, multipart.part_router):
        pairs.append((ARTIFACTS_PREFIX, router))
    return pairs


class _PrefixRoute(BaseRoute):
    """Hands every request under ``prefix`` to ``app`` (which answers 404 itself)."""

    def __init__(self, prefix: str, app: FastAPI) -> None:
        self.prefix = prefix
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        inside = path.startswith(self.prefix) and path[len(self.prefix) : len(self.prefix) + 1] in (
            "",
            "/",
        )
        return (Match.FULL if inside and scope["type"] == "http" else Match.NONE), {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        # request.url_for asks the outer app's router, which asks each of its routes.
        return self.app.router.url_path_for(name, **path_params)


async def _unknown_route(request: Request, exc: Exception) -> Response:
    """A path or method under MLflow's prefixes that no route serves, in MLflow's format."""
    assert isinstance(exc, StarletteHTTPException)
    response = response_for(exc)
    response.headers.update(exc.headers or {})  # a 405's Allow
    return response


def _prefixed(template: APIRouter, prefix: str) -> APIRouter:
    """A copy of ``template`` whose routes carry the whole path. FastAPI includes routers
    lazily, so a prefix given to include_router is missing from the matched route, and
    request metrics could not tell /api/2.0/mlflow/runs/get from /ajax-api/2.0/mlflow/..."""
    router = APIRouter(prefix=prefix, route_class=template.route_class)
    for route in template.routes:
        assert isinstance(route, APIRoute)
        router.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            name=route.name,
            include_in_schema=False,
        )
    return router
