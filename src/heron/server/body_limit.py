"""The size limit on JSON request bodies.

A route class rather than a middleware, so the limit belongs to the routes that parse
JSON: artifact uploads use plain routes and stream bodies of any size to the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import HTTPException, Request
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import Message, Receive

from heron.server.responses import server_state


def _too_large(limit: int) -> HTTPException:
    # fastapi.HTTPException: FastAPI re-raises it from body parsing (other exceptions
    # there become a generic 400); the error handlers turn it into a JSON 413.
    return HTTPException(
        413,
        f"the request body is larger than the server's limit of {limit} bytes: send fewer "
        "items per request (e.g. split a batch), or upload large data as an artifact",
    )


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that fails once a body (chunked or lying about its length) passes ``limit``."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return receive_within_limit


# 19 digits in a row may be an integer beyond 64 bits, which orjson reads as a float.
# Found by mapping every digit to "0" and searching for 19 zeros: 0.2 ms on a batch of
# 1,000 points, where the regular expression \d{19} took 1.8 ms.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19


class _OrjsonRequest(Request):
    """A request whose JSON body is parsed by orjson: 3x faster than the standard library
    on a batch of 1,000 points (0.75 ms against 2.2 ms). Bodies where the two could
    differ (what orjson refuses: lone surrogates, NaN literals, 1e400; and long digit
    runs) are parsed by ``json.loads``, so they are accepted or refused as before."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = _parse_json(await self.body())
        return self._json


def _parse_json(body: bytes) -> Any:
    if _LONG_DIGIT_RUN not in body.translate(_DIGITS_TO_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


class LimitedBodyRoute(APIRoute):
    """An APIRoute rejecting bodies over ``ServerSettings.max_request_bytes`` with 413."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle_within_limit(request: Request) -> Response:
            limit = server_state(request).settings.max_request_bytes
            declared = request.headers.get("content-length", "")
            # Refuse before reading a byte when the client announces an oversize body.
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            return await handler(_OrjsonRequest(request.scope, _limited(request.receive, limit)))

        return handle_within_limit
