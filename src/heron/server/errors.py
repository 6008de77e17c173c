"""The one place where errors become HTTP responses.

Heron errors keep their class's wire code (``wire.error_to_dict``) and get the status of
the table in docs/rest-api.md; FastAPI's own errors (validation, unknown route, body too
large) get the same ``{"error": {"code", "message"}}`` shape, so a client has one format.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from heron.entities import wire
from heron.errors import (
    Conflict,
    GateFailed,
    HeronError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from heron.server.responses import json_response

logger = logging.getLogger("heron.server")

STATUS_BY_CODE = {
    "INVALID_ARGUMENT": 400,
    "SEARCH_SYNTAX_ERROR": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "CONFLICT": 409,
    "GATE_FAILED": 412,
    "DATA_CORRUPTED": 500,
    "INTERNAL_ERROR": 500,
}

# For HTTP errors raised by the framework: the Heron class whose wire code fits the status.
_CLASS_BY_STATUS: dict[int, type[HeronError]] = {
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: GateFailed,
}

_MAX_LISTED_PROBLEMS = 5


def status_for(error: HeronError) -> int:
    return STATUS_BY_CODE.get(wire.error_code(error), 500)


def error_response(
    error: HeronError, status: int | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    response = json_response(wire.error_to_dict(error), status or status_for(error))
    if headers:
        response.headers.update(headers)
    return response


def http_error(status: int, message: str) -> HeronError:
    """A Heron error for a bare HTTP status: 4xx default to INVALID_ARGUMENT (the request
    is at fault, e.g. 405 or 413), anything else to INTERNAL_ERROR."""
    kind = _CLASS_BY_STATUS.get(status, InvalidArgument if 400 <= status < 500 else HeronError)
    return kind(message)


async def _heron_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HeronError)
    status = status_for(exc)
    if status >= 500:
        logger.error("internal error: %s", exc.message, exc_info=exc)
    return error_response(exc, status)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message = describe_validation_errors(exc.errors())
    content_type = request.headers.get("content-type", "")
    if _mentions_body(exc.errors()) and "json" not in content_type:
        message += " (send the body as JSON with 'Content-Type: application/json')"
    return error_response(InvalidArgument(message), 400)


class AllowedMethods:
    """The methods a request path accepts, for the ``Allow`` header RFC 9110 requires on a
    405. Starlette names only the methods of the first route whose path matched, so
    ``PUT /api/v1/experiments`` said ``Allow: POST`` although GET works there too."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._routes = [route for route in routes if isinstance(route, Route) and route.methods]

    def __call__(self, request: Request) -> list[str]:
        # Route.matches is PARTIAL when the path matches and the method does not.
        matched = [r for r in self._routes if r.matches(request.scope)[0] is not Match.NONE]
        if not matched:
            return []
        # As in OpenAPI, a concrete path wins over a template that also matches it:
        # /api/v1/runs/search is POST only, even though /api/v1/runs/{run_id} matches it.
        fewest = min(r.path.count("{") for r in matched)
        return sorted({m for r in matched if r.path.count("{") == fewest for m in r.methods or ()})


def _http_error_handler(
    allowed_methods: AllowedMethods,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def http_error_response(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message, headers = str(exc.detail), dict(exc.headers or {})
        # Routes outside the index (the spec's own) keep the Allow that Starlette gave.
        # Sorted: Starlette builds it from a set, so its order changes between processes.
        given = sorted(m.strip() for m in headers.get("Allow", "").split(",") if m.strip())
        if exc.status_code == 405 and (allowed := allowed_methods(request) or given):
            headers["Allow"] = ", ".join(allowed)
            message = (
                f"{request.method} is not allowed on {request.url.path}; "
                f"it accepts {', '.join(allowed)}"
            )
        return error_response(http_error(exc.status_code, message), exc.status_code, headers)

    return http_error_response


async def _unexpected_error(_request: Request, _exc: Exception) -> Response:
    # No traceback in the body: it could leak paths, SQL or secrets. Starlette re-raises the
    # exception after this response is sent, so uvicorn logs it with its traceback once.
    return error_response(HeronError("internal server error; the server log has the details"), 500)


def install_error_handlers(app: FastAPI, routes: Iterable[BaseRoute] = ()) -> None:
    """Register the handlers; ``routes`` are the app's routes, for the ``Allow`` of a 405."""
    app.add_exception_handler(HeronError, _heron_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error_handler(AllowedMethods(routes)))
    app.add_exception_handler(Exception, _unexpected_error)


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """One line naming each bad field, e.g. ``body field 'metrics[0].step': ...``."""
    problems = [_describe(error) for error in errors[:_MAX_LISTED_PROBLEMS]]
    if len(errors) > _MAX_LISTED_PROBLEMS:
        problems.append(f"and {len(errors) - _MAX_LISTED_PROBLEMS} more problems")
    return "invalid request: " + "; ".join(problems)


def _describe(error: Any) -> str:
    loc = tuple(error.get("loc", ()))
    where = str(loc[0]) if loc else "request"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        detail = (error.get("ctx") or {}).get("error", "")
        position = loc[1] if len(loc) > 1 else "?"
        return f"body is not valid JSON: {detail} at character {position}"
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
    field = field.lstrip(".")
    return f"{where} field {field!r}: {message}" if field else f"{where}: {message}"


def _mentions_body(errors: Sequence[Any]) -> bool:
    return any(tuple(error.get("loc", ()))[:1] == ("body",) for error in errors)
