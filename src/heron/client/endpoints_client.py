"""The serving-endpoints half of ``heron.Client`` (a mixin, like the registry's)."""

from __future__ import annotations

from collections.abc import Sequence

from heron.client.http_endpoints import HttpEndpoints
from heron.client.http_transport import HttpTransport
from heron.client.transport import TrackingTransport
from heron.entities.endpoint import Endpoint, EndpointBatching, EndpointRoute
from heron.errors import InvalidArgument
from heron.services import TrackingService
from heron.services.endpoints import EndpointService
from heron.store import SqlEndpointStore, SqlTrackingStore

EndpointsTransport = EndpointService | HttpEndpoints


def open_endpoints(transport: TrackingTransport) -> EndpointsTransport:
    """Endpoints next to a tracking transport: same server, or same database."""
    if isinstance(transport, HttpTransport):
        return HttpEndpoints(transport)
    if isinstance(transport, TrackingService) and isinstance(transport.store, SqlTrackingStore):
        return EndpointService(SqlEndpointStore(transport.store.engines))
    raise InvalidArgument(f"no serving endpoints are available over {type(transport).__name__}")


class EndpointMethods:
    """Create and change serving endpoints: weighted routes to model versions, shadows.

    >>> client.create_endpoint("fraud", [EndpointRoute("models:/fraud@champion", 100)])
    >>> client.update_endpoint("fraud", routes=[EndpointRoute("models:/fraud/5", 95),
    ...                                         EndpointRoute("models:/fraud/6", 5)])
    """

    _service: TrackingTransport
    _endpoints_transport: EndpointsTransport | None = None

    @property
    def endpoints(self) -> EndpointsTransport:
        if self._endpoints_transport is None:
            self._endpoints_transport = open_endpoints(self._service)
        return self._endpoints_transport

    def create_endpoint(
        self,
        name: str,
        routes: Sequence[EndpointRoute],
        *,
        shadows: Sequence[str] = (),
        batching: EndpointBatching | None = None,
        description: str = "",
    ) -> Endpoint:
        return self.endpoints.create_endpoint(
            name, routes, shadows=shadows, batching=batching, description=description
        )

    def get_endpoint(self, name: str) -> Endpoint:
        return self.endpoints.get_endpoint(name)

    def list_endpoints(self) -> list[Endpoint]:
        return self.endpoints.list_endpoints()

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
        """Change what is given and keep the rest; scoring servers follow within seconds."""
        return self.endpoints.update_endpoint(
            name,
            routes=routes,
            shadows=shadows,
            batching=batching,
            description=description,
            expected_revision=expected_revision,
        )

    def delete_endpoint(self, name: str) -> None:
        self.endpoints.delete_endpoint(name)
