"""Serving endpoints over a Heron server's REST API: the surface of ``EndpointService``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from heron.client.http_transport import API, HttpTransport
from heron.entities.endpoint import (
    Endpoint,
    EndpointBatching,
    EndpointRoute,
    endpoint_from_dict,
)


class HttpEndpoints:
    def __init__(self, http: HttpTransport) -> None:
        self._http = http

    def _path(self, name: str) -> str:
        return f"{API}/endpoints/{quote(name, safe='')}"

    def create_endpoint(
        self,
        name: str,
        routes: Sequence[EndpointRoute],
        *,
        shadows: Sequence[str] = (),
        batching: EndpointBatching | None = None,
        description: str = "",
    ) -> Endpoint:
        body: dict[str, Any] = {
            "name": name,
            "routes": _routes(routes),
            "shadows": list(shadows),
            "description": description,
        }
        if batching is not None:
            body["batching"] = _batching(batching)
        return endpoint_from_dict(self._http._json("POST", f"{API}/endpoints", json=body))

    def get_endpoint(self, name: str) -> Endpoint:
        return endpoint_from_dict(self._http._json("GET", self._path(name)))

    def list_endpoints(self) -> list[Endpoint]:
        data = self._http._json("GET", f"{API}/endpoints")
        return [endpoint_from_dict(e) for e in data["endpoints"]]

    def update_endpoint(
        self,
        name: str,
        *,
        routes: Sequence[EndpointRoute] | None = None,
        shadows: Sequence[str] | None = None,
        batching: EndpointBatching | None = None,
        description: str | None = None,
        expected_revision: int | None = None,
    ) -> Endpoint:
        body: dict[str, Any] = {}
        if routes is not None:
            body["routes"] = _routes(routes)
        if shadows is not None:
            body["shadows"] = list(shadows)
        if batching is not None:
            body["batching"] = _batching(batching)
        if description is not None:
            body["description"] = description
        if expected_revision is not None:
            body["expected_revision"] = expected_revision
        return endpoint_from_dict(self._http._json("PATCH", self._path(name), json=body))

    def delete_endpoint(self, name: str) -> None:
        self._http._request("DELETE", self._path(name))


def _routes(routes: Sequence[EndpointRoute]) -> list[dict[str, Any]]:
    return [{"model_uri": r.model_uri, "weight": r.weight} for r in routes]


def _batching(batching: EndpointBatching) -> dict[str, Any]:
    return {"max_batch_size": batching.max_batch_size, "max_latency_ms": batching.max_latency_ms}
