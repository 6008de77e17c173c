"""The scoring request path, as a raw ASGI handler: ``/invocations`` and V2 ``infer``.

No web framework on this path. Profiled under load (py-spy, 16 connections, one-row
LogisticRegression), Starlette's Request/Response objects, middleware stack and router
took about a fifth of the server's CPU per request, more than the model; here a request
is one ``receive`` for the body, one scan of the raw header list, and two ``send`` calls
with header bytes built once per app. Everything else (health, metadata, metrics) stays
on Starlette in ``app.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from heron.errors import HeronError, InvalidArgument, NotFound
from heron.serving import inference_v2
from heron.serving.payloads import (
    ScoringInput,
    dump_json,
    invocation_from_json,
    invocation_media,
    jsonable,
    parse_invocation,
    parse_json,
)
from heron.serving.prediction_log import PredictionRecord
from heron.serving.served_model import ServedModel
from heron.serving.state import ScoringError, ServingState, retry_after
from heron.serving.traffic import REQUEST_KEY_HEADER, VERSION_HEADER, TrafficTable

logger = logging.getLogger("heron.serving")


# Echoed back when sent; made up (and returned) for logged requests that lack one.
REQUEST_ID_HEADER = "x-request-id"
_JSON_HEADER = (b"content-type", b"application/json")
_KEY_HEADER = REQUEST_KEY_HEADER.encode()
_ID_HEADER = REQUEST_ID_HEADER.encode()
_VERSION_HEADER = VERSION_HEADER.encode()


@dataclass
class _Request:
    """What the handler reads off one request, once."""

    content_type: str = ""
    declared_length: int = -1
    request_id: str | None = None
    key: str | None = None
    payload: Any = None  # the decoded JSON body, when it was decoded before routing
    decoded: bool = False


class Protocol:
    """How one protocol reads a request body and writes a response."""

    name = ""

    def parse(self, served: ServedModel, body: bytes, request: _Request) -> ScoringInput:
        raise NotImplementedError

    def respond(self, served: ServedModel, predictions: Any, request: _Request) -> bytes:
        raise NotImplementedError

    def error(self, error: ScoringError) -> bytes:
        raise NotImplementedError

    def params_key(self) -> str:
        raise NotImplementedError

    def is_json(self, request: _Request) -> bool:
        return True


class MlflowProtocol(Protocol):
    name = "mlflow"

    def parse(self, served: ServedModel, body: bytes, request: _Request) -> ScoringInput:
        if request.decoded:
            return invocation_from_json(request.payload, served.signature)
        return parse_invocation(body, request.content_type, served.signature)

    def respond(self, served: ServedModel, predictions: Any, request: _Request) -> bytes:
        return dump_json({"predictions": jsonable(predictions)})

    def error(self, error: ScoringError) -> bytes:
        code = {400: "BAD_REQUEST", 404: "RESOURCE_DOES_NOT_EXIST", 413: "BAD_REQUEST"}
        name = code.get(error.status, "INTERNAL_ERROR")
        if error.status in (503, 504):
            name = "TEMPORARILY_UNAVAILABLE"
        return dump_json({"error_code": name, "message": error.message})

    def params_key(self) -> str:
        return "params"

    def is_json(self, request: _Request) -> bool:
        return invocation_media(request.content_type) != "text/csv"


class V2Protocol(Protocol):
    name = "v2"

    def parse(self, served: ServedModel, body: bytes, request: _Request) -> ScoringInput:
        if not request.decoded:
            # Kept: the response echoes the request's "id".
            request.payload, request.decoded = parse_json(body), True
        return inference_v2.parse_infer_request(request.payload, served.signature)

    def respond(self, served: ServedModel, predictions: Any, request: _Request) -> bytes:
        source = served.source
        payload = request.payload if request.decoded else None
        infer_id = payload.get("id") if isinstance(payload, dict) else None
        return dump_json(
            inference_v2.infer_response(
                predictions,
                source.name,
                source.version,
                infer_id if isinstance(infer_id, str) else None,
            )
        )

    def error(self, error: ScoringError) -> bytes:
        return dump_json({"error": error.message})

    def params_key(self) -> str:
        return "parameters"


MLFLOW = MlflowProtocol()
V2 = V2Protocol()


class Scorer:
    """Answers scoring requests for one app's ``ServingState``."""

    def __init__(self, state: ServingState) -> None:
        self.state = state
        settings = state.settings
        self._limit = settings.max_body_bytes
        self._key_field = settings.request_key_field
        # Prometheus children looked up once per label set, not once per request (the
        # lookup takes a lock and builds a tuple: ~2 us a request at 16 connections).
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[str, Any] = {}
        # Request ids for logged requests that bring none: a random per-app prefix and a
        # counter (32 hex digits, unique across workers and restarts), 0.3 us where
        # uuid4 took 2.2 us on every logged request.
        self._id_prefix = uuid.uuid4().hex[:16]
        self._id_counter = itertools.count()

    def _new_request_id(self) -> str:
        return f"{self._id_prefix}{next(self._id_counter):016x}"

    # -- ASGI ------------------------------------------------------------------------

    async def invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handle(scope, receive, send, MLFLOW, None, None)

    async def v2_infer(
        self, scope: Scope, receive: Receive, send: Send, name: str, version: str | None
    ) -> None:
        await self._handle(scope, receive, send, V2, name, version)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        protocol: Protocol,
        model_name: str | None,
        version: str | None,
    ) -> None:
        if scope["method"] != "POST":
            await _send(send, 405, b'{"error":"use POST"}', [(b"allow", b"POST")])
            return
        request = _Request()
        for name, value in scope["headers"]:
            if name == b"content-type":
                request.content_type = value.decode("latin-1")
            elif name == b"content-length":
                request.declared_length = int(value) if value.isdigit() else -1
            elif name == _KEY_HEADER:
                request.key = value.decode("latin-1")
            elif name == _ID_HEADER:
                request.request_id = value.decode("latin-1")
        try:
            status, content, headers = await self._score(
                request, receive, protocol, model_name, version
            )
        except ScoringError as error:
            status, content = error.status, protocol.error(error)
            headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
        await _send(send, status, content, headers)

    # -- scoring ---------------------------------------------------------------------

    async def _score(
        self,
        request: _Request,
        receive: Receive,
        protocol: Protocol,
        model_name: str | None,
        wanted_version: str | None,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        state = self.state
        # Checked before the body is read (a 404 or 503 needs no body), and taken again
        # after it: a swap while the body arrives may retire this table's versions.
        self._table(model_name, wanted_version)
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
        started = time.perf_counter()
        served: ServedModel | None = None
        body = b""
        status = 200
        try:
            body = await self._read_body(request, receive)
            if request.key is None and self._key_field is not None:
                request.key = self._key_from_body(request, body, protocol)
            table = self._table(model_name, wanted_version)
            served = table.pick(request.key)
            # Taken before the next await, so a swap cannot close this version under
            # the request.
            served.active += 1
            item = _parsed(protocol, served, body, request)
            predictions = await _predict(state, served, item)
            for shadow in table.shadows:
                _mirror(state, shadow, protocol, body, request)
            content = protocol.respond(served, predictions, request)
            headers = [_JSON_HEADER, (_VERSION_HEADER, served.source.version.encode())]
            self._log(request, protocol, served, status, started, body, content, None, headers)
            return status, content, headers
        except ScoringError as error:
            status = error.status
            version = served.source.version if served is not None else None
            if version is not None:
                error.headers.setdefault(VERSION_HEADER, version)
            extra: list[tuple[bytes, bytes]] = []
            self._log(request, protocol, served, status, started, body, None, error.message, extra)
            for name, value in extra:
                error.headers.setdefault(name.decode(), value.decode())
            raise
        finally:
            state.pending -= 1
            version = served.source.version if served is not None else ""
            if served is not None:
                served.active -= 1
                state.close_when_idle(served)
            self._count(protocol.name, version, status, time.perf_counter() - started)

    def _table(self, model_name: str | None, wanted_version: str | None) -> TrafficTable:
        state = self.state
        table = state.require_table() if model_name is None else state.answer_to(model_name)
        if wanted_version is not None:
            table = _only_version(table, wanted_version)
        return table

    async def _read_body(self, request: _Request, receive: Receive) -> bytes:
        limit = self._limit
        if request.declared_length > limit:
            raise _too_large(limit)
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            if message["type"] == "http.disconnect":
                raise _disconnected()
            if len(body) > limit:
                raise _too_large(limit)
            return body
        chunks = [body]
        size = len(body)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _disconnected()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _key_from_body(self, request: _Request, body: bytes, protocol: Protocol) -> str | None:
        """The sticky key from the request's params (taken out: the model never sees it)."""
        if not protocol.is_json(request):
            return None
        try:
            payload = parse_json(body)
        except InvalidArgument as error:
            raise ScoringError(400, error.message) from None
        request.payload, request.decoded = payload, True
        if not isinstance(payload, dict):
            return None
        params = payload.get(protocol.params_key())
        if not isinstance(params, dict) or self._key_field not in params:
            return None
        value = params.pop(self._key_field)
        if not params:
            del payload[protocol.params_key()]
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        raise ScoringError(
            400, f"{protocol.params_key()}.{self._key_field} (the sticky key) must be a string"
        )

    def _log(
        self,
        request: _Request,
        protocol: Protocol,
        served: ServedModel | None,
        status: int,
        started: float,
        body: bytes,
        content: bytes | None,
        error: str | None,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        state = self.state
        log = state.prediction_log
        if log is None:
            return
        rate = state.settings.log_sample_rate
        if rate < 1.0 and random.random() >= rate:
            return
        request_id = request.request_id or self._new_request_id()
        headers.append((_ID_HEADER, request_id.encode()))
        log.record(
            PredictionRecord(
                int(time.time() * 1000),
                state.name,
                served.source.version if served is not None else "",
                request_id,
                protocol.name,
                status,
                (time.perf_counter() - started) * 1000,
                body,
                content,
                error,
            )
        )

    def _count(self, protocol: str, version: str, status: int, seconds: float) -> None:
        key = (protocol, version, status)
        counter = self._counters.get(key)
        if counter is None:
            metrics = self.state.metrics
            counter = self._counters[key] = metrics.requests.labels(protocol, version, str(status))
        counter.inc()
        latency = self._latency.get(version)
        if latency is None:
            latency = self._latency[version] = self.state.metrics.latency.labels(version)
        latency.observe(seconds)


async def _send(
    send: Send, status: int, content: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    if not headers or headers[0] is not _JSON_HEADER:
        headers = [_JSON_HEADER, *headers]
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _only_version(table: TrafficTable, wanted: str) -> TrafficTable:
    matching = [r for r in table.routes if r.served.source.version == wanted]
    if not matching:
        versions = ", ".join(r.served.source.version for r in table.routes)
        raise ScoringError(404, f"version {wanted!r} is not served here; served: {versions}")
    return TrafficTable(matching[:1])


def _parsed(
    protocol: Protocol, served: ServedModel, body: bytes, request: _Request
) -> ScoringInput:
    try:
        return protocol.parse(served, body, request)
    except InvalidArgument as error:
        raise ScoringError(400, error.message) from None


async def _predict(state: ServingState, served: ServedModel, item: ScoringInput) -> Any:
    timeout = state.settings.request_timeout_s
    try:
        return await served.predict(item, timeout)
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
    state: ServingState, shadow: ServedModel, protocol: Protocol, body: bytes, request: _Request
) -> None:
    """Score the same request on a shadow version; its answer and errors are discarded."""
    if len(state.background) >= state.settings.max_queue:
        # Shadows never add load beyond the queue bound: skip rather than pile up.
        state.metrics.shadow_errors.labels(shadow.source.version).inc()
        return
    shadow.active += 1

    async def run() -> None:
        try:
            # Parsed again for the shadow (its signature may differ), from the payload
            # already decoded if it was (parsing reads it, never changes it).
            await _predict(state, shadow, protocol.parse(shadow, body, request))
        except Exception:  # whatever a shadow does, the caller never sees it
            state.metrics.shadow_errors.labels(shadow.source.version).inc()
        finally:
            shadow.active -= 1
            state.close_when_idle(shadow)

    state.spawn(run())


def _too_large(limit: int) -> ScoringError:
    return ScoringError(
        413,
        f"the request body is larger than this server's limit of {limit} bytes; "
        "send fewer rows per request",
    )


def _disconnected() -> ScoringError:
    return ScoringError(400, "the client disconnected before sending the whole body")
