"""The tracking server's ASGI app: ``create_app(settings)``, no module-level state.

Run it with ``uvicorn --factory heron.server.app:create_app_from_environment`` (what
``heron server`` does): each worker process builds its own app, store and connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI

from heron.server.errors import install_error_handlers
from heron.server.mlflow_compat import include_mlflow_routes
from heron.server.observability import MetricsMiddleware, RequestMetrics
from heron.server.observability import router as observability_router
from heron.server.request_models import refuse_unstorable_url_text
from heron.server.responses import JSONBytes, ServerState
from heron.server.routes import (
    artifact_previews,
    artifacts,
    endpoints,
    experiment_stats,
    experiments,
    registry_models,
    registry_versions,
    runs,
)
from heron.server.settings import ServerSettings
from heron.server.ui import ui_routes
from heron.services import TrackingService
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.store import SqlRegistryStore, SqlTrackingStore
from heron.store.sql_logged_models import SqlLoggedModelStore

API_DESCRIPTION = (
    "Heron's native tracking API (docs/rest-api.md). Errors are "
    '`{"error": {"code": ..., "message": ...}}`; non-finite metric values travel as the '
    'strings "NaN", "Infinity" and "-Infinity".'
)


def _version() -> str:
    try:
        return version("heron-ml")
    except PackageNotFoundError:  # running from a source tree without metadata
        return "0+unknown"


class HeronApp(FastAPI):
    def openapi(self) -> dict[str, Any]:
        """FastAPI's spec, minus the 422 responses it adds to every route with parameters:
        this server answers validation errors with 400 INVALID_ARGUMENT instead, and the
        spec must say what the server really does (clients and fuzzers rely on it)."""
        if self.openapi_schema is None:
            schema = super().openapi()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            self.openapi_schema = schema
        return self.openapi_schema


def create_app(settings: ServerSettings, *, prestart_readers: bool = False) -> FastAPI:
    """A tracking server app on the store and artifact root of ``settings``.

    The store is opened here, so a wrong URI or an outdated schema fails at start-up,
    not on the first request; it is closed when the app shuts down. On SQLite, long
    scans go to helper processes (heron.store.sqlite_columns), started by the first
    chart or, with ``prestart_readers`` (``heron server``), when the app starts.
    """
    store = SqlTrackingStore(settings.backend_store_uri)
    service = TrackingService(store, settings.default_artifact_root)
    metrics = RequestMetrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        store.start_column_readers(prestart=prestart_readers)
        try:
            yield
        finally:
            store.close()

    app = HeronApp(
        title="Heron tracking server",
        version=_version(),
        description=API_DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONBytes,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN, which a
        # self-hosted (maybe air-gapped) server must not depend on; the spec stays.
        docs_url=None,
        redoc_url=None,
        # Path and query text must be storable too (bodies are checked by their models).
        dependencies=[Depends(refuse_unstorable_url_text)],
    )
    logged_models = LoggedModelService(SqlLoggedModelStore(store.engines), service)
    registry = RegistryService(
        SqlRegistryStore(store.engines), service, logged_models=logged_models
    )
    app.state.heron = ServerState(settings, store, service, metrics, registry, logged_models)
    routers = (
        experiments.router,
        runs.router,
        artifacts.router,
        artifact_previews.router,
        experiment_stats.router,
        registry_models.router,
        registry_versions.router,
        endpoints.router,
        observability_router,
    )
    install_error_handlers(app, [route for router in routers for route in router.routes])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for router in routers:
        app.include_router(router)
    include_mlflow_routes(app, app.router.dependencies)
    # Last, so that no UI path can shadow an API route.
    app.router.routes.extend(ui_routes())
    return app


def create_app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory``: settings from HERON_SERVER_* variables."""
    return create_app(ServerSettings.from_environment(), prestart_readers=True)
