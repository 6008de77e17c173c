"""The tracking server serves the web UI from `/` with its security headers, and the REST
API answers exactly as before around it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.asgi import TestClient
from tests.live_server import HERON, free_port

from heron.server.app import create_app
from heron.server.settings import ServerSettings
from heron.server.ui import CONTENT_SECURITY_POLICY, ui_routes

INDEX = '<!doctype html><script type="module" src="/assets/app-1234.js"></script>'


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", str(tmp_path / "artifacts"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def built_ui(tmp_path: Path) -> Iterator[TestClient]:
    """An app serving a UI build of our own, so the test does not depend on `make ui`."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-1234.js").write_text("console.log('heron')")
    app = FastAPI()
    app.router.routes.extend(ui_routes(dist))
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path", ["/", "/experiments?ids=1", "/runs/abc", "/compare?runs=a,b", "/models", "/models/m"]
)
def test_app_paths_load_the_app_with_security_headers(built_ui: TestClient, path: str) -> None:
    response = built_ui.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"


def test_policy_forbids_inline_script_eval_and_other_origins() -> None:
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in CONTENT_SECURITY_POLICY.split("; ")
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["object-src"] == ["'none'"]
    assert all("unsafe" not in value for values in directives.values() for value in values)


def test_assets_are_cached_for_long_and_carry_the_headers(built_ui: TestClient) -> None:
    response = built_ui.get("/assets/app-1234.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert built_ui.get("/assets/missing.js").status_code == 404


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    app.router.routes.extend(ui_routes(tmp_path / "absent"))
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 404
    assert "make ui" in response.text


def test_api_routes_keep_their_answers(client: TestClient) -> None:
    unknown = client.get("/api/v1/no-such-route")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"
    assert "content-security-policy" not in unknown.headers
    wrong_method = client.put("/api/v1/experiments")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]
    listed = client.get("/api/v1/experiments")
    assert listed.status_code == 200
    assert "content-security-policy" not in listed.headers
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_heron_ui_serves_the_local_store(tmp_path: Path) -> None:
    """`heron ui` opens the store the command line tracks to, with the UI at `/`."""
    import heron

    folder = tmp_path / "tracking"
    with heron.Client(str(folder)) as local:
        local.create_experiment("seen-in-the-ui")
    port = free_port()
    env = {**os.environ, "HERON_TRACKING_URI": str(folder)}
    process = subprocess.Popen(
        [HERON, "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        names = [e["name"] for e in httpx.get(f"{base}/api/v1/experiments").json()["experiments"]]
        assert "seen-in-the-ui" in names
        page = httpx.get(f"{base}/")
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in stderr.decode()


def test_heron_ui_refuses_a_remote_tracking_uri() -> None:
    from typer.testing import CliRunner

    from heron.cli.main import app

    result = CliRunner().invoke(app, ["--tracking-uri", "http://127.0.0.1:1", "ui"])
    assert result.exit_code == 2
    assert "is a server" in result.output
