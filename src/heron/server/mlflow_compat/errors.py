"""The one place where Heron errors become MLflow error bodies.

MLflow's client reads ``{"error_code": ..., "message": ...}`` and raises an
``MlflowException`` carrying that code, so the code must be MLflow's own name. The HTTP
status follows MLflow's table (``mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS``). A 5xx
makes the client retry with backoff, so only server faults get one.

Heron's app-wide handlers (``heron.server.errors``) answer in Heron's format; MLflow routes
use ``MlflowRoute`` instead, which catches errors inside the route and answers here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from heron.errors import (
    AlreadyExists,
    Conflict,
    DataCorrupted,
    GateFailed,
    HeronError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from heron.server.body_limit import LimitedBodyRoute
from heron.server.errors import describe_validation_errors
from heron.server.responses import json_response

logger = logging.getLogger("heron.server.mlflow")

# MLflow error code and HTTP status per Heron error class, most specific first.
# AlreadyExists is a 400 in MLflow (RESOURCE_ALREADY_EXISTS), not a 409. A failed gate is
# the caller's to fix, so it gets a 4xx (INVALID_STATE would be a 500 and be retried).
MLFLOW_ERRORS: dict[type[HeronError], tuple[str, int]] = {
    InvalidArgument: ("INVALID_PARAMETER_VALUE", 400),
    NotFound: ("RESOURCE_DOES_NOT_EXIST", 404),
    AlreadyExists: ("RESOURCE_ALREADY_EXISTS", 400),
    Conflict: ("RESOURCE_CONFLICT", 409),
    GateFailed: ("BAD_REQUEST", 400),
    PermissionDenied: ("PERMISSION_DENIED", 403),
    Unauthenticated: ("UNAUTHENTICATED", 401),
    DataCorrupted: ("DATA_LOSS", 500),
    Unavailable: ("TEMPORARILY_UNAVAILABLE", 503),
    HeronError: ("INTERNAL_ERROR", 500),
}

# For framework HTTP errors (405, 413, ...) raised inside an MLflow route.
_CODE_BY_STATUS = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    409: "RESOURCE_CONFLICT",
    413: "RESOURCE_EXHAUSTED",
}


def mlflow_error(error: HeronError) -> tuple[str, int]:
    """MLflow's error code and HTTP status for a Heron error."""
    for kind in type(error).__mro__:
        if kind in MLFLOW_ERRORS:
            return MLFLOW_ERRORS[kind]
    return MLFLOW_ERRORS[HeronError]


def error_response(code: str, message: str, status: int) -> Response:
    return json_response({"error_code": code, "message": message}, status)


def response_for(exc: Exception) -> Response:
    """The MLflow error response for anything a route raised."""
    if isinstance(exc, HeronError):
        code, status = mlflow_error(exc)
        if status >= 500:
            logger.error("internal error: %s", exc.message, exc_info=exc)
        return error_response(code, exc.message, status)
    if isinstance(exc, RequestValidationError):
        return error_response(
            "INVALID_PARAMETER_VALUE", describe_validation_errors(exc.errors()), 400
        )
    if isinstance(exc, HTTPException):
        fallback = "BAD_REQUEST" if 400 <= exc.status_code < 500 else "INTERNAL_ERROR"
        code = _CODE_BY_STATUS.get(exc.status_code, fallback)
        return error_response(code, str(exc.detail), exc.status_code)
    # No detail in the body: it could leak paths, SQL or secrets; the log has the traceback.
    logger.exception("unexpected error in an MLflow route", exc_info=exc)
    return error_response(
        "INTERNAL_ERROR", "internal server error; the server log has the details", 500
    )


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _answering_in_mlflow_format(handler: Handler) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:  # every error of an MLflow route gets MLflow's body
            return response_for(exc)

    return handle


class MlflowRoute(LimitedBodyRoute):
    """A JSON route of MLflow's API: body size limit, MLflow error bodies."""

    def get_route_handler(self) -> Handler:
        return _answering_in_mlflow_format(super().get_route_handler())


class MlflowStreamRoute(APIRoute):
    """An artifact route of MLflow's API: bodies of any size, MLflow error bodies."""

    def get_route_handler(self) -> Handler:
        return _answering_in_mlflow_format(super().get_route_handler())
