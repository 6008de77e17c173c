"""Serving endpoints: the rules for names, routes, weights, shadows and batching.

The server and the embedded client both call this service, so an endpoint is checked
the same way whether it is made over HTTP or straight on a SQLite file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from heron.entities.endpoint import Endpoint, EndpointBatching, EndpointRoute
from heron.entities.model_uri import MODELS_SCHEME, parse_model_uri
from heron.errors import InvalidArgument
from heron.services.tracking import now_ms
from heron.store.endpoint_base import EndpointStore

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_ROUTES = 16
MAX_SHADOWS = 4
MAX_WEIGHT = 1_000_000
MAX_BATCH_SIZE = 100_000
MAX_LATENCY_MS = 10_000.0


class EndpointService:
    def __init__(self, store: EndpointStore, clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self._clock = clock

    def create_endpoint(
        self,
        name: str,
        routes: Sequence[EndpointRoute],
        *,
        shadows: Sequence[str] = (),
        batching: EndpointBatching | None = None,
        description: str = "",
    ) -> Endpoint:
        check_name(name)
        now = self._clock()
        endpoint = Endpoint(
            name=name,
            routes=tuple(routes),
            shadows=tuple(shadows),
            batching=batching or EndpointBatching(),
            description=description,
            revision=1,
            created_at=now,
            updated_at=now,
        )
        check_endpoint(endpoint)
        return self.store.create_endpoint(endpoint)

    def get_endpoint(self, name: str) -> Endpoint:
        return self.store.get_endpoint(name)

    def list_endpoints(self) -> list[Endpoint]:
        return self.store.list_endpoints()

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
        """Change what is given, keep the rest. With ``expected_revision``, ``Conflict``
        if the endpoint changed since that revision was read."""
        current = self.store.get_endpoint(name)
        if expected_revision is None:
            expected_revision = current.revision
        changed = replace(
            current,
            routes=tuple(routes) if routes is not None else current.routes,
            shadows=tuple(shadows) if shadows is not None else current.shadows,
            batching=batching or current.batching,
            description=description if description is not None else current.description,
            updated_at=self._clock(),
        )
        check_endpoint(changed)
        return self.store.replace_endpoint(changed, expected_revision)

    def delete_endpoint(self, name: str) -> None:
        self.store.delete_endpoint(name)


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"endpoint name {name!r} must be 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )


def check_endpoint(endpoint: Endpoint) -> None:
    routes = endpoint.routes
    if not routes:
        raise InvalidArgument(f"endpoint {endpoint.name!r} needs at least one route")
    if len(routes) > MAX_ROUTES:
        raise InvalidArgument(f"an endpoint has at most {MAX_ROUTES} routes, got {len(routes)}")
    if len(endpoint.shadows) > MAX_SHADOWS:
        raise InvalidArgument(
            f"an endpoint has at most {MAX_SHADOWS} shadow routes, got {len(endpoint.shadows)}"
        )
    for route in routes:
        check_model_uri(route.model_uri)
        if not 0 <= route.weight <= MAX_WEIGHT:
            raise InvalidArgument(
                f"route {route.model_uri} has weight {route.weight}; weights are integers "
                f"from 0 to {MAX_WEIGHT}, relative to each other (95 and 5: 95% and 5%)"
            )
    if sum(r.weight for r in routes) == 0:
        raise InvalidArgument("at least one route needs a weight above 0 to take traffic")
    uris = [r.model_uri for r in routes]
    for uri in endpoint.shadows:
        check_model_uri(uri)
    duplicates = sorted({u for u in uris if uris.count(u) > 1})
    if duplicates:
        raise InvalidArgument(f"model URI(s) routed twice: {duplicates}; merge their weights")
    shadowed = sorted(set(uris) & set(endpoint.shadows))
    if shadowed or len(set(endpoint.shadows)) != len(endpoint.shadows):
        named = shadowed or sorted(endpoint.shadows)
        raise InvalidArgument(
            f"a shadow route must be a model neither routed nor shadowed twice: {named}"
        )
    batching = endpoint.batching
    if not 1 <= batching.max_batch_size <= MAX_BATCH_SIZE:
        raise InvalidArgument(
            f"max_batch_size must be between 1 (off) and {MAX_BATCH_SIZE}, "
            f"got {batching.max_batch_size}"
        )
    if not 0 <= batching.max_latency_ms <= MAX_LATENCY_MS:
        raise InvalidArgument(
            f"max_latency_ms must be between 0 and {MAX_LATENCY_MS:g}, "
            f"got {batching.max_latency_ms}"
        )


def check_model_uri(uri: str) -> None:
    if not uri or not uri.strip():
        raise InvalidArgument("a route needs a model URI, e.g. models:/fraud-detector/5")
    if uri.startswith(MODELS_SCHEME):
        parse_model_uri(uri)


def parse_route(text: str) -> EndpointRoute:
    """``models:/fraud/5=95`` (URI, '=', weight) as the CLI and docs write a route."""
    uri, sep, weight = text.rpartition("=")
    if not sep:
        return EndpointRoute(text, 100)
    if not weight.strip().isdigit():
        raise InvalidArgument(f"route {text!r}: the weight after '=' must be a whole number")
    return EndpointRoute(uri, int(weight))
