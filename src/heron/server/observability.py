"""Liveness, readiness and Prometheus metrics.

Each app has its own CollectorRegistry, so several apps in one process (tests, or a
future combined server) never share or clash over counters. Under uvicorn with N
workers each process counts its own requests; a scrape sees the worker that answered.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.server import response_models as rs
from heron.server.responses import json_response, server_state
from heron.store import ViewType

logger = logging.getLogger("heron.server")

# Requests that matched no route share one label: raw paths would make the number of
# series unbounded (every scanner probing /wp-admin/... would add one).
UNMATCHED_ROUTE = "<unmatched>"


class RequestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "heron_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "heron_http_request_duration_seconds",
            "Time to answer an HTTP request (whole response sent), by route template.",
            ["method", "route"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/v1/runs/{run_id}``), set by the router."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED_ROUTE


class MetricsMiddleware:
    """Counts and times every HTTP request, including those that end in an exception."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped the app

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route_template(scope), status, elapsed)


router = APIRouter(tags=["observability"])


@router.get("/health", summary="Liveness: 200 while the process runs", response_model=rs.Health)
async def health() -> Response:
    return json_response({"status": "ok"})


@router.get(
    "/ready",
    summary="Readiness: 200 when the metadata database answers, else 503",
    response_model=rs.Readiness,
    responses={503: {"model": rs.Readiness, "description": "the database does not answer"}},
)
def ready(request: Request) -> Response:
    try:
        server_state(request).service.search_experiments(view=ViewType.ALL, max_results=1)
    except Exception as exc:  # any failure means "not ready"; the log says which
        logger.warning("readiness check failed: %s", exc, exc_info=exc)
        message = f"the database does not answer: {type(exc).__name__}"
        return json_response({"status": "unavailable", "message": message}, 503)
    return json_response({"status": "ready"})


# PlainTextResponse only so that the spec says text/plain: the route sets its own type.
@router.get(
    "/metrics",
    summary="Prometheus metrics: request counts and latency per route",
    response_class=PlainTextResponse,
)
def metrics(request: Request) -> Response:
    body = server_state(request).metrics.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
