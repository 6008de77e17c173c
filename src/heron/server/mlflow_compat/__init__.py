"""MLflow's REST API on a Heron server: the official ``mlflow`` client works unchanged.

A translation layer only: every route calls TrackingService, so runs logged through
MLflow's client are ordinary Heron runs (docs/mlflow-compat.md lists what is served).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from heron.server.mlflow_compat import (
    artifacts,
    experiments,
    logged_models,
    model_versions,
    multipart,
    registered_models,
    runs,
)

__all__ = ["include_mlflow_routes"]

# MLflow's UI calls the same API under /ajax-api.
TRACKING_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts"


def include_mlflow_routes(app: FastAPI) -> None:
    """Add MLflow's routes to ``app``. They stay out of /openapi.json, which specifies
    Heron's own API (its error format, its fuzz tests); MLflow's API is MLflow's protos."""
    for prefix in TRACKING_PREFIXES:
        for router in (
            experiments.router,
            runs.router,
            artifacts.tracking_router,
            logged_models.router,
            registered_models.router,
            model_versions.router,
        ):
            app.include_router(_prefixed(router, prefix))
    for router in (artifacts.proxy_router, multipart.router, multipart.part_router):
        app.include_router(_prefixed(router, ARTIFACTS_PREFIX))


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
