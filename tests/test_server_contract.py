"""The server's error contract: one JSON error shape for every failure, the body size
limit, and an OpenAPI spec that lists every route of docs/rest-api.md."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.server import ServerSettings, create_app

with warnings.catch_warnings():
    # Starlette asks for httpx2, which the project does not install yet; httpx works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

API = "/api/v1"
REST_API_DOC = Path(__file__).resolve().parents[1] / "docs" / "rest-api.md"


def _settings(tmp_path: Path, **overrides: Any) -> ServerSettings:
    db = f"sqlite:///{tmp_path / 'heron.db'}"
    return ServerSettings(db, str(tmp_path / "artifacts"), **overrides)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path))) as test_client:
        yield test_client


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code
    return body


def _run_id(client: TestClient) -> str:
    eid = _ok(client.post(f"{API}/experiments", json={"name": "e"}), 201)["id"]
    run_id: str = _ok(client.post(f"{API}/runs", json={"experiment_id": eid}), 201)["id"]
    return run_id


def test_validation_errors_name_the_field(client: TestClient) -> None:
    rid = _run_id(client)
    bad_point = {"metrics": [{"key": "m", "value": "high", "timestamp": 1}]}
    error = _error(client.post(f"{API}/runs/{rid}/batch", json=bad_point), 400, "INVALID_ARGUMENT")
    assert "metrics[0].value" in error["message"]
    assert "NaN" in error["message"]  # says what it accepts
    no_name = _error(client.post(f"{API}/experiments", json={}), 400, "INVALID_ARGUMENT")
    assert "'name'" in no_name["message"]
    broken = client.post(
        f"{API}/experiments", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in _error(broken, 400, "INVALID_ARGUMENT")["message"]
    untyped = client.post(f"{API}/experiments", content=b'{"name": "x"}')
    assert "application/json" in _error(untyped, 400, "INVALID_ARGUMENT")["message"]


# -- framework errors --------------------------------------------------------------------


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    _error(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    _error(client.put("/health"), 405, "INVALID_ARGUMENT")


def test_unexpected_error_is_500_without_traceback(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))

    def explode(_experiment_id: str) -> None:
        raise RuntimeError("secret detail in /srv/heron")

    app.state.heron.service.get_experiment = explode
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get(f"{API}/experiments/1")
    error = _error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "server log" in error["message"]


def test_oversize_json_bodies_are_refused_with_413(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, max_request_bytes=2000))) as test_client:
        rid = _run_id(test_client)
        points = [{"key": "m", "value": 1.0, "timestamp": 1, "step": i} for i in range(200)]
        declared = test_client.post(f"{API}/runs/{rid}/batch", json={"metrics": points})
        assert "2000 bytes" in _error(declared, 413, "INVALID_ARGUMENT")["message"]

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit counts as it reads
            yield b'{"metrics": ['
            for i in range(200):
                yield b'{"key": "m", "value": 1, "timestamp": 1, "step": %d},' % i
            yield b'{"key": "m", "value": 1, "timestamp": 1}]}'

        streamed = test_client.post(
            f"{API}/runs/{rid}/batch",
            content=chunked(),
            headers={"content-type": "application/json"},
        )
        _error(streamed, 413, "INVALID_ARGUMENT")
        assert _ok(test_client.get(f"{API}/runs/{rid}/metrics/m/history"))["metrics"] == []
        small = {"metrics": points[:5]}
        _ok(test_client.post(f"{API}/runs/{rid}/batch", json=small), 204)


# -- the contract ------------------------------------------------------------------------


def _contract_routes() -> set[tuple[str, str]]:
    """Every `METHOD /path` of docs/rest-api.md, parameters written as {}."""
    found = re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)`", REST_API_DOC.read_text())
    return {(method, re.sub(r"\{[^}]*\}", "{}", path)) for method, path in found}


def test_openapi_documents_every_contract_route(client: TestClient) -> None:
    spec = _ok(client.get("/openapi.json"))
    documented = {
        (method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    contract = _contract_routes()
    assert len(contract) >= 25
    assert contract <= documented, contract - documented
    # Validation errors are 400 here, so the spec must not promise FastAPI's 422.
    assert '"422"' not in client.get("/openapi.json").text
    batch = spec["paths"]["/api/v1/runs/{run_id}/batch"]["post"]
    assert "requestBody" in batch
