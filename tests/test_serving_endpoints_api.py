"""Endpoints over the REST API and through both client transports (local and HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asgi import TestClient
from heron import Client
from heron.client.http_transport import HttpTransport
from heron.entities.endpoint import EndpointBatching, EndpointRoute
from heron.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from heron.server import ServerSettings, create_app

API = "/api/v1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", str(tmp_path / "artifacts"))
    with TestClient(create_app(settings)) as client:
        yield client


def test_rest_routes_create_update_and_delete(server: TestClient) -> None:
    body = {
        "name": "fraud",
        "routes": [{"model_uri": "models:/fraud/5", "weight": 95}],
        "shadows": ["models:/fraud/7"],
        "batching": {"max_batch_size": 16, "max_latency_ms": 3},
    }
    created = server.post(f"{API}/endpoints", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["revision"] == 1
    assert created.json()["batching"] == {"max_batch_size": 16, "max_latency_ms": 3.0}
    again = server.post(f"{API}/endpoints", json=body)
    assert again.status_code == 409
    routes = [
        {"model_uri": "models:/fraud/5", "weight": 95},
        {"model_uri": "models:/fraud/6", "weight": 5},
    ]
    patched = server.patch(f"{API}/endpoints/fraud", json={"routes": routes})
    assert patched.status_code == 200, patched.text
    assert patched.json()["routes"] == routes
    assert patched.json()["shadows"] == ["models:/fraud/7"]
    assert patched.json()["revision"] == 2
    stale = server.patch(f"{API}/endpoints/fraud", json={"routes": [], "expected_revision": 1})
    assert stale.status_code == 400  # checked before the revision: no routes is never valid
    conflict = server.patch(f"{API}/endpoints/fraud", json={"shadows": [], "expected_revision": 1})
    assert conflict.status_code == 409
    assert "changed since revision 1" in conflict.json()["error"]["message"]
    assert [e["name"] for e in server.get(f"{API}/endpoints").json()["endpoints"]] == ["fraud"]
    assert server.get(f"{API}/endpoints/fraud").json()["revision"] == 2
    assert server.delete(f"{API}/endpoints/fraud").status_code == 204
    missing = server.get(f"{API}/endpoints/fraud")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


def test_rest_refuses_bad_bodies_with_400(server: TestClient) -> None:
    no_routes = server.post(f"{API}/endpoints", json={"name": "fraud"})
    assert no_routes.status_code == 400
    assert "routes" in no_routes.json()["error"]["message"]
    negative = server.post(
        f"{API}/endpoints",
        json={"name": "fraud", "routes": [{"model_uri": "models:/fraud/1", "weight": -5}]},
    )
    assert negative.status_code == 400
    bad_uri = server.post(
        f"{API}/endpoints",
        json={"name": "fraud", "routes": [{"model_uri": "models:/fraud/zz", "weight": 1}]},
    )
    assert bad_uri.status_code == 400
    assert "malformed model URI" in bad_uri.json()["error"]["message"]


@pytest.fixture(params=["local", "http"])
def client(request: pytest.FixtureRequest, tmp_path: Path, server: TestClient) -> Iterator[Client]:
    if request.param == "local":
        opened = Client(f"sqlite:///{tmp_path / 'local.db'}")
    else:
        opened = Client(transport=HttpTransport("http://heron.test", http_client=server))
    yield opened
    opened.close()


def test_client_methods_behave_the_same_over_both_transports(client: Client) -> None:
    v5 = EndpointRoute("models:/fraud/5", 95)
    v6 = EndpointRoute("models:/fraud/6", 5)
    created = client.create_endpoint("fraud", [v5], batching=EndpointBatching(8, 1.0))
    assert created.routes == (v5,)
    with pytest.raises(AlreadyExists):
        client.create_endpoint("fraud", [v5])
    updated = client.update_endpoint("fraud", routes=[v5, v6], shadows=["models:/fraud/7"])
    assert updated.revision == 2
    assert client.get_endpoint("fraud") == updated
    assert [e.name for e in client.list_endpoints()] == ["fraud"]
    with pytest.raises(Conflict):
        client.update_endpoint("fraud", description="x", expected_revision=1)
    with pytest.raises(InvalidArgument):
        client.update_endpoint("fraud", routes=[])
    client.delete_endpoint("fraud")
    with pytest.raises(NotFound):
        client.get_endpoint("fraud")
