"""Serving endpoints: a name, weighted routes to model versions, shadow routes.

Pure data and the JSON codec the REST API, the client and the CLI share. The rules
(names, weights, URIs) live in ``services/endpoints.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EndpointRoute:
    """A model URI and its traffic weight (relative: 95 and 5 send 95% and 5%)."""

    model_uri: str
    weight: int


@dataclass(frozen=True)
class EndpointBatching:
    max_batch_size: int = 1
    max_latency_ms: float = 2.0


@dataclass(frozen=True)
class Endpoint:
    """``revision`` grows by one with every change: scoring servers poll it, and an
    update made against a stale revision fails instead of overwriting another one."""

    name: str
    routes: tuple[EndpointRoute, ...]
    shadows: tuple[str, ...] = ()
    batching: EndpointBatching = field(default_factory=EndpointBatching)
    description: str = ""
    revision: int = 1
    created_at: int = 0
    updated_at: int = 0


def endpoint_to_dict(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "description": endpoint.description,
        "routes": [{"model_uri": r.model_uri, "weight": r.weight} for r in endpoint.routes],
        "shadows": list(endpoint.shadows),
        "batching": {
            "max_batch_size": endpoint.batching.max_batch_size,
            "max_latency_ms": endpoint.batching.max_latency_ms,
        },
        "revision": endpoint.revision,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def endpoint_from_dict(data: dict[str, Any]) -> Endpoint:
    batching = data.get("batching") or {}
    return Endpoint(
        name=data["name"],
        description=data.get("description", ""),
        routes=tuple(EndpointRoute(r["model_uri"], int(r["weight"])) for r in data["routes"]),
        shadows=tuple(data.get("shadows", ())),
        batching=EndpointBatching(
            int(batching.get("max_batch_size", 1)), float(batching.get("max_latency_ms", 2.0))
        ),
        revision=int(data["revision"]),
        created_at=int(data["created_at"]),
        updated_at=int(data["updated_at"]),
    )
