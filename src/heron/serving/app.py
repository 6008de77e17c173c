"""The scoring server's ASGI app: ``create_app(settings)``, one model or one endpoint.

Scoring routes (MLflow ``/invocations``, Open Inference Protocol V2 ``infer``) are raw
ASGI in ``scoring.py``; health, metadata and metrics are Starlette routes, where a
framework's cost does not matter.

Run it with ``heron serve URI`` (uvicorn, N worker processes, each loading the model).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import heron
from heron.client import Client
from heron.serving import inference_v2
from heron.serving.endpoint_follower import EndpointFollower
from heron.serving.payloads import dump_json
from heron.serving.scoring import MLFLOW, V2, Scorer
from heron.serving.served_model import ModelLoader
from heron.serving.settings import ServingSettings
from heron.serving.state import ScoringError, ServingState

logger = logging.getLogger("heron.serving")

JSON = "application/json"


def create_app(
    settings: ServingSettings, loader: ModelLoader | None = None, client: Client | None = None
) -> ScoringApp:
    """A scoring app for ``settings.model_uri`` or ``settings.endpoint``.

    ``loader`` turns a model URI into a ``Model`` (default ``heron.models.load``);
    ``client`` reaches the registry and the endpoints' control plane (default: a Client
    on ``settings.tracking_uri``, opened here and closed at shutdown).
    """
    state = ServingState(settings, loader, client)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # The model is loaded and warmed up before the worker accepts a connection: with
        # N workers on one socket, a worker still loading would otherwise take requests
        # and answer 503 while another worker is ready. A failed load leaves the worker
        # up, answering 503 with the reason.
        state.open_prediction_log()
        following: asyncio.Task[None] | None = None
        if settings.endpoint:
            follower = EndpointFollower(state, state.open_poll_client())
            await _first_load(state, follower.sync())
            following = asyncio.get_running_loop().create_task(follower.run())
        else:
            await _first_load(state, asyncio.to_thread(state.load_single_model))
        try:
            yield
        finally:
            if following is not None:
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await following
            await state.close()

    routes = [
        Route("/ping", _handler(state, _ping), methods=["GET"]),
        Route("/health", _handler(state, _ping), methods=["GET"]),
        Route("/version", _handler(state, _version), methods=["GET"]),
        Route("/metrics", _handler(state, _metrics), methods=["GET"]),
        Route("/v2", _handler(state, _v2_server), methods=["GET"]),
        Route("/v2/health/live", _handler(state, _v2_live), methods=["GET"]),
        Route("/v2/health/ready", _handler(state, _ping), methods=["GET"]),
        Route("/v2/models/{name}", _handler(state, _v2_model), methods=["GET"]),
        Route("/v2/models/{name}/ready", _handler(state, _v2_model_ready), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.serving = state
    return ScoringApp(app, Scorer(state))


def create_app_from_environment() -> ScoringApp:
    """The app for ``uvicorn --factory`` (what ``heron serve --workers N`` runs)."""
    return create_app(ServingSettings.from_environment())


async def _first_load(state: ServingState, loading: Awaitable[Any]) -> None:
    try:
        await loading
    except Exception as error:  # reported on /health and readiness; the process stays up
        state.load_error = f"{type(error).__name__}: {error}"
        logger.error("could not load %s: %s", state.name, state.load_error)
        return
    logger.info("serving %s (ready)", state.name)


Handler = Callable[[ServingState, Request], Awaitable[Response]]


def _handler(state: ServingState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(state, request)
        except ScoringError as error:
            return _error_response(request, error)

    return endpoint


def _error_response(request: Request, error: ScoringError) -> Response:
    protocol = V2 if request.url.path.startswith("/v2") else MLFLOW
    return Response(protocol.error(error), error.status, error.headers, media_type=JSON)


# -- health, metadata, metrics -------------------------------------------------------


async def _ping(state: ServingState, _request: Request) -> Response:
    state.require_table()
    return Response(b'{"status":"ready"}', media_type=JSON)


async def _v2_live(_state: ServingState, _request: Request) -> Response:
    return Response(b'{"live":true}', media_type=JSON)


async def _version(_state: ServingState, _request: Request) -> Response:
    return Response(heron.__version__, media_type="text/plain")


async def _metrics(state: ServingState, _request: Request) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def _v2_server(_state: ServingState, _request: Request) -> Response:
    body = {"name": "heron", "version": heron.__version__, "extensions": []}
    return Response(dump_json(body), media_type=JSON)


async def _v2_model(state: ServingState, request: Request) -> Response:
    table = state.answer_to(request.path_params["name"])
    served = table.routes[0].served
    versions = [r.served.source.version for r in table.routes]
    body = inference_v2.model_metadata(
        state.name, versions, f"heron_{served.model.flavor}", served.signature
    )
    return Response(dump_json(body), media_type=JSON)


async def _v2_model_ready(state: ServingState, request: Request) -> Response:
    state.answer_to(request.path_params["name"])
    return Response(b'{"ready":true}', media_type=JSON)


# -- the app ------------------------------------------------------------------------


class ScoringApp:
    """The ASGI app: scoring routes answered by ``Scorer`` directly, the rest by Starlette.

    ``state`` and ``routes`` are the Starlette app's (``app.state.serving`` is the
    ``ServingState``); the scoring routes are ``SCORING_ROUTES``.
    """

    def __init__(self, starlette: Starlette, scorer: Scorer) -> None:
        self._starlette = starlette
        self._scorer = scorer
        self.state = starlette.state
        self.routes = starlette.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == "/invocations":
                await self._scorer.invocations(scope, receive, send)
                return
            if path.startswith("/v2/models/") and path.endswith("/infer"):
                parts = path.split("/")  # '', v2, models, NAME, [versions, V,] infer
                if len(parts) == 5:
                    await self._scorer.v2_infer(scope, receive, send, parts[3], None)
                    return
                if len(parts) == 7 and parts[4] == "versions":
                    await self._scorer.v2_infer(scope, receive, send, parts[3], parts[5])
                    return
        await self._starlette(scope, receive, send)


SCORING_ROUTES = (
    "/invocations",
    "/v2/models/{name}/infer",
    "/v2/models/{name}/versions/{version}/infer",
)
