"""Operating the scoring server: readiness, overload, timeouts, graceful shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from asgi import TestClient
from heron.models import load
from heron.serving import ServingSettings, create_app
from live_server import HERON, free_port
from serving_helpers import SlowModel, scaled_sum_model, serving

ROW = {"inputs": [[1, 2, 3]]}


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scaled_sum_model(tmp_path_factory.mktemp("model") / "m")


def test_a_worker_accepts_requests_only_once_loaded_and_warmed_up(model_folder: Path) -> None:
    calls: list[str] = []

    class Recording(SlowModel):
        def predict(self, data: Any, params: Any = None) -> Any:
            calls.append("predict")
            return super().predict(data, params)

    def slow_loader(_uri: str) -> Any:
        time.sleep(0.5)
        calls.append("loaded")
        return Recording(load(model_folder), delay=0)

    app = create_app(ServingSettings("m"), slow_loader)
    started = time.monotonic()
    with TestClient(app) as client:
        # Start-up (before the first connection is accepted) waited for load and warm-up.
        assert time.monotonic() - started >= 0.5
        assert calls == ["loaded", "predict"]
        assert client.get("/v2/health/ready").status_code == 200
        assert client.post("/invocations", json=ROW).json() == {"predictions": [6.0]}


def test_a_model_that_fails_to_load_keeps_the_process_up_and_says_why() -> None:
    with TestClient(create_app(ServingSettings("/nowhere/model"))) as client:
        deadline = time.monotonic() + 10
        while "no model at" not in client.get("/health").text:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert client.get("/health").status_code == 503
        assert client.get("/v2/health/live").status_code == 200
        assert client.post("/invocations", json=ROW).status_code == 503


def test_a_full_queue_answers_503_with_retry_after(model_folder: Path) -> None:
    model = load(model_folder)
    settings = ServingSettings("m", max_queue=2)
    with serving(settings, lambda _uri: SlowModel(model, delay=0.3)) as client:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda _: client.post("/invocations", json=ROW), range(8)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) >= 2
        assert 503 in statuses
        refused = next(r for r in responses if r.status_code == 503)
        assert refused.headers["retry-after"] == "1"
        assert "limit of 2 requests in progress" in refused.json()["message"]
        assert 'heron_serving_rejected_total{reason="overloaded"}' in client.get("/metrics").text
        assert client.post("/invocations", json=ROW).status_code == 200


def test_a_slow_prediction_times_out_with_504(model_folder: Path) -> None:
    settings = ServingSettings(str(model_folder), request_timeout_s=0.2)
    with serving(settings) as client:
        slow = client.post("/invocations", json={**ROW, "params": {"delay": 1.0}})
        assert slow.status_code == 504
        assert "0.2 s request timeout" in slow.json()["message"]
        # A running predict cannot be interrupted: the model's thread frees up once it ends.
        time.sleep(1.0)
        assert client.post("/invocations", json=ROW).status_code == 200


@pytest.mark.slow
def test_heron_serve_drains_in_flight_requests_on_sigterm(model_folder: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [HERON, "serve", str(model_folder), "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.1)
        fast = httpx.post(f"{url}/invocations", json=ROW)
        assert fast.json() == {"predictions": [6.0]}
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(
                httpx.post,
                f"{url}/invocations",
                json={**ROW, "params": {"delay": 1.0}},
                timeout=10,
            )
            time.sleep(0.3)
            os.killpg(process.pid, signal.SIGTERM)
            assert in_flight.result().json() == {"predictions": [6.0]}
        # uvicorn re-raises the signal it caught once it has shut down cleanly.
        assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_a_slow_model_never_blocks_health_checks(model_folder: Path) -> None:
    model = load(model_folder)
    slow = serving(ServingSettings("m"), lambda _uri: SlowModel(model, delay=0.6))
    with slow as client, ThreadPoolExecutor(2) as pool:
        for _ in range(2):  # the second call knows the model is slow
            scoring = pool.submit(client.post, "/invocations", json=ROW)
            time.sleep(0.1)
            started = time.monotonic()
            assert client.get("/v2/health/live").status_code == 200
            assert time.monotonic() - started < 0.3  # a blocked loop: >= 0.5 s
            assert scoring.result().status_code == 200


def test_a_model_fault_is_a_counted_json_500_and_the_server_goes_on(tmp_path: Path) -> None:
    from serving_helpers import failing_model

    with serving(ServingSettings(str(failing_model(tmp_path / "m")))) as client:
        failed = client.post("/invocations", json=ROW)
        assert failed.status_code == 500
        assert failed.json() == {
            "error_code": "INTERNAL_ERROR",
            "message": "the model failed: RuntimeError: this shadow version is broken",
        }
        zeros = client.post("/invocations", json={"inputs": [[0, 0, 0]]})
        assert zeros.status_code == 200
        metrics = client.get("/metrics").text
    assert 'heron_serving_requests_total{protocol="mlflow",status="500",version="1"} 1.0' in metrics
