"""The scoring server's ASGI app: ``create_app(settings)``, one model or one endpoint.

Starlette rather than FastAPI: scoring routes take raw bodies in several formats and
gain nothing from request models, and each request saves FastAPI's dependency and
validation layers. Protocols: MLflow ``/invocations`` and the Open Inference Protocol V2.

Run it with ``heron serve URI`` (uvicorn, N worker processes, each loading the model).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

import heron
from heron.client import Client
from heron.errors import HeronError, InvalidArgument, NotFound
from heron.serving import inference_v2
from heron.serving.endpoint_follower import EndpointFollower
from heron.serving.payloads import ScoringInput, dump_json, jsonable, parse_invocation, parse_json
from heron.serving.prediction_log import PredictionRecord
from heron.serving.served_model import ModelLoader, ServedModel
from heron.serving.settings import ServingSettings
from heron.serving.state import ScoringError, ServingState, retry_after
from heron.serving.traffic import REQUEST_KEY_HEADER, VERSION_HEADER, TrafficTable

logger = logging.getLogger("heron.serving")

JSON = "application/json"
# Echoed back when sent; made up (and returned) for logged requests that lack one.
REQUEST_ID_HEADER = "x-request-id"


def create_app(
    settings: ServingSettings, loader: ModelLoader | None = None, client: Client | None = None
) -> Starlette:
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
            assert state.client is not None  # ServingState opens one for endpoints
            follower = EndpointFollower(state, state.client)
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
        Route("/invocations", _handler(state, _invocations), methods=["POST"]),
        Route("/ping", _handler(state, _ping), methods=["GET"]),
        Route("/health", _handler(state, _ping), methods=["GET"]),
        Route("/version", _handler(state, _version), methods=["GET"]),
        Route("/metrics", _handler(state, _metrics), methods=["GET"]),
        Route("/v2", _handler(state, _v2_server), methods=["GET"]),
        Route("/v2/health/live", _handler(state, _v2_live), methods=["GET"]),
        Route("/v2/health/ready", _handler(state, _ping), methods=["GET"]),
        Route("/v2/models/{name}", _handler(state, _v2_model), methods=["GET"]),
        Route("/v2/models/{name}/ready", _handler(state, _v2_model_ready), methods=["GET"]),
        Route("/v2/models/{name}/infer", _handler(state, _v2_infer), methods=["POST"]),
        Route(
            "/v2/models/{name}/versions/{version}/infer",
            _handler(state, _v2_infer),
            methods=["POST"],
        ),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.serving = state
    return app


def create_app_from_environment() -> Starlette:
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
    if request.url.path.startswith("/v2"):
        body: dict[str, Any] = {"error": error.message}
    else:
        code = {400: "BAD_REQUEST", 404: "RESOURCE_DOES_NOT_EXIST", 413: "BAD_REQUEST"}
        body = {"error_code": code.get(error.status, "INTERNAL_ERROR"), "message": error.message}
        if error.status in (503, 504):
            body["error_code"] = "TEMPORARILY_UNAVAILABLE"
    return Response(dump_json(body), error.status, error.headers, media_type=JSON)


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


# -- scoring ----------------------------------------------------------------------


async def _invocations(state: ServingState, request: Request) -> Response:
    table = state.require_table()

    def parse(served: ServedModel, body: bytes) -> ScoringInput:
        return parse_invocation(body, request.headers.get("content-type", ""), served.signature)

    def respond(_served: ServedModel, predictions: Any) -> bytes:
        return dump_json({"predictions": jsonable(predictions)})

    return await _score(state, request, table, "mlflow", parse, respond)


async def _v2_infer(state: ServingState, request: Request) -> Response:
    table = state.answer_to(request.path_params["name"])
    wanted_version = request.path_params.get("version")
    request_id: str | None = None

    def parse(served: ServedModel, body: bytes) -> ScoringInput:
        nonlocal request_id
        payload = parse_json(body)
        if isinstance(payload, dict) and isinstance(payload.get("id"), str):
            request_id = payload["id"]
        return inference_v2.parse_infer_request(payload, served.signature)

    def respond(served: ServedModel, predictions: Any) -> bytes:
        source = served.source
        return dump_json(
            inference_v2.infer_response(predictions, source.name, source.version, request_id)
        )

    if wanted_version is not None:
        matching = [r for r in table.routes if r.served.source.version == wanted_version]
        if not matching:
            versions = ", ".join(r.served.source.version for r in table.routes)
            raise ScoringError(
                404, f"version {wanted_version!r} is not served here; served: {versions}"
            )
        table = TrafficTable(matching[:1])
    return await _score(state, request, table, "v2", parse, respond)


async def _score(
    state: ServingState,
    request: Request,
    table: TrafficTable,
    protocol: str,
    parse: Callable[[ServedModel, bytes], ScoringInput],
    respond: Callable[[ServedModel, Any], bytes],
) -> Response:
    settings = state.settings
    if state.pending >= settings.max_queue:
        state.metrics.rejected.labels("overloaded").inc()
        raise ScoringError(
            503,
            f"the server is at its limit of {settings.max_queue} requests in progress; "
            "retry after the Retry-After delay",
            retry_after(),
        )
    state.pending += 1
    state.metrics.queue_depth.inc()
    started = time.perf_counter()
    served = table.pick(request.headers.get(REQUEST_KEY_HEADER))
    # Taken before the first await, so a swap cannot close this version under the request.
    served.active += 1
    version = served.source.version
    status = 200
    try:
        body = await _read_body(request, settings.max_body_bytes)
        item = _parsed(parse, served, body)
        predictions = await _predict(state, served, item)
        for shadow in table.shadows:
            _mirror(state, shadow, parse, body)
        content = respond(served, predictions)
        headers = {VERSION_HEADER: version}
        log = state.prediction_log
        if log is not None and random.random() < settings.log_sample_rate:
            request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
            headers[REQUEST_ID_HEADER] = request_id
            log.record(
                PredictionRecord(
                    int(time.time() * 1000),
                    state.name,
                    version,
                    request_id,
                    protocol,
                    200,
                    (time.perf_counter() - started) * 1000,
                    body,
                    content,
                )
            )
        return Response(content, media_type=JSON, headers=headers)
    except ScoringError as error:
        status = error.status
        error.headers.setdefault(VERSION_HEADER, version)
        raise
    finally:
        served.active -= 1
        state.close_when_idle(served)
        state.pending -= 1
        state.metrics.queue_depth.dec()
        state.metrics.requests.labels(protocol, version, str(status)).inc()
        state.metrics.latency.labels(version).observe(time.perf_counter() - started)


def _parsed(
    parse: Callable[[ServedModel, bytes], ScoringInput], served: ServedModel, body: bytes
) -> ScoringInput:
    try:
        return parse(served, body)
    except InvalidArgument as error:
        raise ScoringError(400, error.message) from None


async def _predict(state: ServingState, served: ServedModel, item: ScoringInput) -> Any:
    timeout = state.settings.request_timeout_s
    try:
        return await asyncio.wait_for(served.predict(item), timeout)
    except asyncio.TimeoutError:
        state.metrics.rejected.labels("timeout").inc()
        raise ScoringError(
            504, f"the model did not answer within the {timeout:g} s request timeout"
        ) from None
    except NotFound as error:
        raise ScoringError(404, error.message) from None
    except HeronError as error:
        raise ScoringError(400, error.message) from None
    except (ValueError, TypeError, KeyError, IndexError) as error:
        # The model refused this input (e.g. scikit-learn's "could not convert string
        # to float"); the input is at fault, and the server keeps serving.
        raise ScoringError(
            400, f"the model could not score this input: {type(error).__name__}: {error}"
        ) from None
    except Exception as error:  # a fault of the model, not of the input: a JSON 500
        logger.exception("version %s failed", served.source.version)
        raise ScoringError(500, f"the model failed: {type(error).__name__}: {error}") from None


def _mirror(
    state: ServingState,
    shadow: ServedModel,
    parse: Callable[[ServedModel, bytes], ScoringInput],
    body: bytes,
) -> None:
    """Score the same request on a shadow version; its answer and errors are discarded."""
    if len(state.background) >= state.settings.max_queue:
        # Shadows never add load beyond the queue bound: skip rather than pile up.
        state.metrics.shadow_errors.labels(shadow.source.version).inc()
        return
    shadow.active += 1

    async def run() -> None:
        try:
            await _predict(state, shadow, parse(shadow, body))
        except Exception:  # whatever a shadow does, the caller never sees it
            state.metrics.shadow_errors.labels(shadow.source.version).inc()
        finally:
            shadow.active -= 1
            state.close_when_idle(shadow)

    state.spawn(run())


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ScoringError(400, "the client disconnected before sending the whole body") from None
    return b"".join(chunks)


def _too_large(limit: int) -> ScoringError:
    return ScoringError(
        413,
        f"the request body is larger than this server's limit of {limit} bytes; "
        "send fewer rows per request",
    )
