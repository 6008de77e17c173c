"""Endpoint rules and storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from heron.entities.endpoint import EndpointBatching, EndpointRoute
from heron.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from heron.services.endpoints import EndpointService, parse_route
from heron.store import SqlEndpointStore, SqlTrackingStore

V5 = EndpointRoute("models:/fraud/5", 95)
V6 = EndpointRoute("models:/fraud/6", 5)


@pytest.fixture
def endpoints(store: SqlTrackingStore) -> EndpointService:
    clock = iter(range(1000, 100_000, 10))
    return EndpointService(SqlEndpointStore(store.engines), clock=lambda: next(clock))


def test_create_get_list_and_delete(endpoints: EndpointService) -> None:
    created = endpoints.create_endpoint(
        "fraud",
        [V5, V6],
        shadows=["models:/fraud/7"],
        batching=EndpointBatching(32, 5.0),
        description="card fraud",
    )
    assert created.revision == 1
    fetched = endpoints.get_endpoint("fraud")
    assert fetched == created
    assert fetched.routes == (V5, V6)  # order kept
    assert fetched.shadows == ("models:/fraud/7",)
    assert fetched.batching == EndpointBatching(32, 5.0)
    endpoints.create_endpoint("churn", [EndpointRoute("models:/churn@champion", 1)])
    assert [e.name for e in endpoints.list_endpoints()] == ["churn", "fraud"]
    endpoints.delete_endpoint("fraud")
    with pytest.raises(NotFound, match="endpoint 'fraud' does not exist"):
        endpoints.get_endpoint("fraud")
    with pytest.raises(NotFound):
        endpoints.delete_endpoint("fraud")
    assert [e.name for e in endpoints.list_endpoints()] == ["churn"]


def test_names_are_unique(endpoints: EndpointService) -> None:
    endpoints.create_endpoint("fraud", [V5])
    with pytest.raises(AlreadyExists, match="endpoint 'fraud' already exists"):
        endpoints.create_endpoint("fraud", [V6])


def test_update_changes_what_is_given_and_bumps_the_revision(endpoints: EndpointService) -> None:
    created = endpoints.create_endpoint("fraud", [V5], shadows=["models:/fraud/7"])
    updated = endpoints.update_endpoint("fraud", routes=[V5, V6])
    assert updated.revision == 2
    assert updated.routes == (V5, V6)
    assert updated.shadows == ("models:/fraud/7",)
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    assert endpoints.get_endpoint("fraud") == updated
    cleared = endpoints.update_endpoint("fraud", shadows=[])
    assert cleared.shadows == ()
    assert cleared.revision == 3


def test_update_against_a_stale_revision_conflicts(endpoints: EndpointService) -> None:
    endpoints.create_endpoint("fraud", [V5])
    endpoints.update_endpoint("fraud", routes=[V6], expected_revision=1)
    with pytest.raises(Conflict, match="changed since revision 1"):
        endpoints.update_endpoint("fraud", routes=[V5], expected_revision=1)
    assert endpoints.get_endpoint("fraud").routes == (V6,)
    with pytest.raises(NotFound):
        endpoints.update_endpoint("nothing", routes=[V5])


@pytest.mark.parametrize(
    ("name", "routes", "shadows", "batching", "message"),
    [
        ("bad name!", [V5], [], None, "endpoint name"),
        ("fraud", [], [], None, "at least one route"),
        ("fraud", [EndpointRoute("models:/fraud/5", 0)], [], None, "weight above 0"),
        ("fraud", [EndpointRoute("models:/fraud/5", -1)], [], None, "weights are integers"),
        ("fraud", [EndpointRoute("models:/fraud/x", 1)], [], None, "malformed model URI"),
        ("fraud", [EndpointRoute("", 1)], [], None, "needs a model URI"),
        ("fraud", [V5, EndpointRoute(V5.model_uri, 1)], [], None, "routed twice"),
        ("fraud", [V5], [V5.model_uri], None, "shadow route"),
        ("fraud", [V5], [], EndpointBatching(0, 1), "max_batch_size"),
        ("fraud", [V5], [], EndpointBatching(8, -1), "max_latency_ms"),
    ],
)
def test_invalid_endpoints_are_refused(
    endpoints: EndpointService,
    name: str,
    routes: list[EndpointRoute],
    shadows: list[str],
    batching: EndpointBatching | None,
    message: str,
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        endpoints.create_endpoint(name, routes, shadows=shadows, batching=batching)
    assert endpoints.list_endpoints() == []


def test_parse_route() -> None:
    assert parse_route("models:/fraud/5=95") == V5
    assert parse_route("models:/fraud@champion") == EndpointRoute("models:/fraud@champion", 100)
    with pytest.raises(InvalidArgument, match="whole number"):
        parse_route("models:/fraud/5=lots")
