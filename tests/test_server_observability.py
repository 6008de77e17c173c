"""Health, readiness, Prometheus metrics, settings, and the app under a real uvicorn."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heron.errors import InvalidArgument
from heron.server import ServerSettings, create_app
from heron.server.settings import (
    ARTIFACT_ROOT_ENV,
    BACKEND_STORE_URI_ENV,
    DEFAULT_MAX_REQUEST_BYTES,
    MAX_REQUEST_BYTES_ENV,
)
from heron.store import SqlTrackingStore

with warnings.catch_warnings():
    # Starlette asks for httpx2, which the project does not install yet; httpx works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def _settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", str(tmp_path / "artifacts"))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path))) as test_client:
        yield test_client


def test_health_and_ready(client: TestClient) -> None:
    health = client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = client.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_not_ready_when_the_database_fails(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))

    def unreachable(**_: object) -> None:
        raise ConnectionError("database is down")

    app.state.heron.service.search_experiments = unreachable
    with TestClient(app) as test_client:
        ready = test_client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert test_client.get("/health").status_code == 200


def test_metrics_count_requests_per_route_template(client: TestClient, tmp_path: Path) -> None:
    client.get("/api/v1/experiments/1")
    client.get("/api/v1/experiments/2")
    client.get("/api/v1/experiments")
    client.get("/no/such/route")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    one_route = 'method="GET",route="/api/v1/experiments/{experiment_id}",status="404"'
    assert f"heron_http_requests_total{{{one_route}}} 2.0" in text
    assert (
        'heron_http_requests_total{method="GET",route="/api/v1/experiments",status="200"} 1.0'
        in text
    )
    assert 'route="<unmatched>"' in text
    assert "/no/such/route" not in text
    assert (
        'heron_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/experiments/{experiment_id}"} 2.0'
    ) in text

    # A second app in the same process has counters of its own.
    other = tmp_path / "other"
    other.mkdir()
    with TestClient(create_app(_settings(other))) as second:
        assert "experiment_id" not in second.get("/metrics").text


def test_settings_from_environment(tmp_path: Path) -> None:
    env = {
        BACKEND_STORE_URI_ENV: f"sqlite:///{tmp_path / 'db' / 'heron.db'}",
        ARTIFACT_ROOT_ENV: str(tmp_path / "blobs"),
        MAX_REQUEST_BYTES_ENV: "1234",
    }
    settings = ServerSettings.from_environment(env)
    assert settings.backend_store_uri == f"sqlite:///{tmp_path / 'db' / 'heron.db'}"
    assert settings.default_artifact_root == str(tmp_path / "blobs")
    assert settings.max_request_bytes == 1234
    # A folder maps as the embedded client maps it: heron.db and artifacts/ inside.
    folder = ServerSettings.for_location(str(tmp_path / "store"))
    assert folder.backend_store_uri == f"sqlite:///{tmp_path / 'store' / 'heron.db'}"
    assert folder.default_artifact_root == str(tmp_path / "store" / "artifacts")
    assert folder.max_request_bytes == DEFAULT_MAX_REQUEST_BYTES
    with pytest.raises(InvalidArgument):
        ServerSettings.from_environment({**env, MAX_REQUEST_BYTES_ENV: "lots"})
    with pytest.raises(InvalidArgument):
        ServerSettings("sqlite:///x.db", "art", max_request_bytes=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """uvicorn with two workers in a subprocess, as `heron server` runs it."""
    store_uri = f"sqlite:///{tmp_path / 'heron.db'}"
    SqlTrackingStore(store_uri).close()  # create the schema once, before workers race to
    port = _free_port()
    env = {
        **os.environ,
        BACKEND_STORE_URI_ENV: store_uri,
        ARTIFACT_ROOT_ENV: str(tmp_path / "artifacts"),
    }
    factory = "heron.server.app:create_app_from_environment"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
        "--port", str(port), "--workers", "2", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"uvicorn did not become ready:\n{output}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def test_real_server_over_a_socket(server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=30) as http:
        created = http.post("/api/v1/experiments", json={"name": "socket"})
        assert created.status_code == 201, created.text
        run = http.post("/api/v1/runs", json={"experiment_id": created.json()["id"]}).json()
        point = {"key": "loss", "value": "NaN", "timestamp": 1, "step": 0}
        assert (
            http.post(f"/api/v1/runs/{run['id']}/batch", json={"metrics": [point]}).status_code
            == 204
        )
        assert http.get(f"/api/v1/runs/{run['id']}").json()["metrics"] == {"loss": "NaN"}
        assert http.get("/api/v1/runs/nope").json()["error"]["code"] == "NOT_FOUND"

        # A chunked upload through the real server: the body arrives in pieces.
        digest = hashlib.sha256()
        piece = os.urandom(256 * 1024)

        def body() -> Iterator[bytes]:
            for _ in range(32):
                digest.update(piece)
                yield piece

        content_url = f"/api/v1/runs/{run['id']}/artifacts/content"
        put = http.put(content_url, params={"path": "data/blob.bin"}, content=body())
        assert put.status_code == 204, put.text
        got = http.get(content_url, params={"path": "data/blob.bin"})
        assert hashlib.sha256(got.content).hexdigest() == digest.hexdigest()
