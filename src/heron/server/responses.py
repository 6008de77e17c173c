"""JSON responses and the per-app state the routes share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import JSONResponse, Response

from heron.services import TrackingService
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.store import SqlTrackingStore

if TYPE_CHECKING:
    from heron.server.observability import RequestMetrics
    from heron.server.settings import ServerSettings


class JSONBytes(JSONResponse):
    """JSON via orjson: about 5x faster than the standard library on a page of 1,000 runs.

    The wire codecs already turn non-finite metric values into strings; orjson writes any
    other NaN (say, in a dataset profile) as null instead of failing the whole response.

    A JSONResponse subclass, not a bare Response: FastAPI documents a route's
    ``response_model`` in /openapi.json only for JSON response classes, and with a bare
    Response every success body was specified as ``{"type": "string"}``.
    """

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(content: Any, status_code: int = 200) -> Response:
    return JSONBytes(content, status_code=status_code)


def no_content() -> Response:
    return Response(status_code=204)


@dataclass(frozen=True)
class ServerState:
    """What one app instance owns; kept on ``app.state.heron`` (no module-level singletons)."""

    settings: ServerSettings
    store: SqlTrackingStore
    service: TrackingService
    metrics: RequestMetrics
    registry: RegistryService
    logged_models: LoggedModelService


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.heron
    return state


async def _tracking_service(request: Request) -> TrackingService:
    # async so FastAPI resolves it on the event loop instead of a threadpool hop.
    return server_state(request).service


ServiceDep = Annotated[TrackingService, Depends(_tracking_service)]

# Who makes a request. Heron's server has no authentication of its own yet: it takes the
# user from this header (the Python client sends the local user), so roles are only as
# trustworthy as the proxy in front of the server that sets or strips the header.
USER_HEADER = "X-Heron-User"
ANONYMOUS = "anonymous"


async def _registry_service(request: Request) -> RegistryService:
    return server_state(request).registry


async def _actor(request: Request) -> str:
    user = request.headers.get(USER_HEADER, "").strip()
    return user[:256] if user else ANONYMOUS


RegistryDep = Annotated[RegistryService, Depends(_registry_service)]
ActorDep = Annotated[str, Depends(_actor)]
