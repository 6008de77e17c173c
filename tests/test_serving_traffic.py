"""Endpoints on the scoring server: traffic split, sticky keys, shadows, live changes."""

from __future__ import annotations

import math
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import heron
from asgi import TestClient
from heron.entities.endpoint import EndpointRoute
from heron.serving import ServingSettings, create_app
from heron.serving.endpoint_follower import backoff_delay
from serving_helpers import constant_model, failing_model, serving

ROW = {"inputs": [[1.0, 2.0, 3.0]]}
KEY = "x-heron-request-key"
VERSION = "x-heron-model-version"


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("versions")
    return {
        "v1": constant_model(root / "v1", 1.0),
        "v2": constant_model(root / "v2", 2.0),
        "broken": failing_model(root / "broken"),
    }


@pytest.fixture
def tracking(tmp_path: Path) -> Iterator[heron.Client]:
    client = heron.Client(f"sqlite:///{tmp_path / 'heron.db'}")
    yield client
    client.close()


def endpoint_server(tracking: heron.Client) -> ServingSettings:
    return ServingSettings(
        endpoint="fraud", tracking_uri=str(tracking.tracking_uri), poll_interval_s=0.05
    )


def route(folder: Path, weight: int) -> EndpointRoute:
    return EndpointRoute(str(folder), weight)


def test_traffic_splits_by_weight_within_tolerance(
    tracking: heron.Client, versions: dict[str, Path]
) -> None:
    tracking.create_endpoint("fraud", [route(versions["v1"], 70), route(versions["v2"], 30)])
    requests = 1500
    with serving(endpoint_server(tracking)) as client:
        answered = Counter(
            client.post("/invocations", json=ROW).headers[VERSION] for _ in range(requests)
        )
    expected = requests * 0.3
    sigma = math.sqrt(requests * 0.3 * 0.7)
    # 5 sigma: a correct router fails this about once in 3.5 million runs.
    assert abs(answered["v2"] - expected) < 5 * sigma, answered
    assert answered["v1"] + answered["v2"] == requests


def test_the_response_says_which_version_answered(
    tracking: heron.Client, versions: dict[str, Path]
) -> None:
    tracking.create_endpoint("fraud", [route(versions["v1"], 50), route(versions["v2"], 50)])
    with serving(endpoint_server(tracking)) as client:
        for _ in range(40):
            response = client.post("/invocations", json=ROW)
            value = {"v1": 1.0, "v2": 2.0}[response.headers[VERSION]]
            assert response.json() == {"predictions": [value]}
        metadata = client.get("/v2/models/fraud").json()
        assert metadata["versions"] == ["v1", "v2"]
        v2 = client.post(
            "/v2/models/fraud/versions/v2/infer",
            json={"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1] * 3}]},
        )
        assert v2.json()["model_version"] == "v2"
        assert v2.json()["outputs"][0]["data"] == [2.0]


def test_sticky_keys_always_get_the_same_version(
    tracking: heron.Client, versions: dict[str, Path]
) -> None:
    tracking.create_endpoint("fraud", [route(versions["v1"], 50), route(versions["v2"], 50)])
    with serving(endpoint_server(tracking)) as client:
        first = {}
        for user in range(40):
            headers = {KEY: f"user-{user}"}
            seen = {
                client.post("/invocations", json=ROW, headers=headers).headers[VERSION]
                for _ in range(5)
            }
            assert len(seen) == 1, f"user-{user} saw {seen}"
            first[user] = seen.pop()
    # The keys spread over both versions (40 keys all on one: about 1 in 10^12).
    assert set(first.values()) == {"v1", "v2"}


def test_sticky_keys_by_a_params_field_and_the_model_never_sees_it(
    tracking: heron.Client, versions: dict[str, Path]
) -> None:
    tracking.create_endpoint("fraud", [route(versions["v1"], 50), route(versions["v2"], 50)])
    settings = replace(endpoint_server(tracking), request_key_field="user")
    with serving(settings) as client:
        by_field: dict[int, str] = {}
        for user in range(40):
            body = {**ROW, "params": {"user": f"user-{user}"}}
            responses = [client.post("/invocations", json=body) for _ in range(4)]
            # The models take no params: had the key reached them, they would refuse it.
            assert {r.status_code for r in responses} == {200}, responses[0].text
            seen = {r.headers[VERSION] for r in responses}
            assert len(seen) == 1, f"user-{user} saw {seen}"
            by_field[user] = seen.pop()
            # The same key by header lands on the same version, in both protocols.
            header = client.post("/invocations", json=ROW, headers={KEY: f"user-{user}"})
            assert header.headers[VERSION] == by_field[user]
            v2 = client.post(
                "/v2/models/fraud/infer",
                json={
                    "inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1] * 3}],
                    "parameters": {"user": f"user-{user}"},
                },
            )
            assert v2.status_code == 200, v2.text
            assert v2.json()["model_version"] == by_field[user]
        wrong = client.post("/invocations", json={**ROW, "params": {"user": [1]}})
        assert wrong.status_code == 400
        assert "params.user (the sticky key)" in wrong.json()["message"]
    assert set(by_field.values()) == {"v1", "v2"}


def test_a_broken_shadow_never_affects_the_response(
    tracking: heron.Client, versions: dict[str, Path]
) -> None:
    tracking.create_endpoint(
        "fraud", [route(versions["v1"], 100)], shadows=[str(versions["broken"])]
    )
    with serving(endpoint_server(tracking)) as client:
        responses = [client.post("/invocations", json=ROW) for _ in range(20)]
        deadline = time.monotonic() + 5
        while 'heron_serving_shadow_errors_total{version="broken"} 20.0' not in (
            client.get("/metrics").text
        ):
            assert time.monotonic() < deadline, client.get("/metrics").text
            time.sleep(0.02)
    assert {r.status_code for r in responses} == {200}
    assert {r.headers[VERSION] for r in responses} == {"v1"}
    assert all(r.json() == {"predictions": [1.0]} for r in responses)


def test_routes_change_live_under_load_without_a_failed_request(
    tracking: heron.Client, versions: dict[str, Path]
) -> None:
    tracking.create_endpoint("fraud", [route(versions["v1"], 100)])
    statuses: Counter[int] = Counter()
    answered: list[str] = []
    stop = threading.Event()

    def load(client: TestClient) -> None:
        while not stop.is_set():
            response = client.post("/invocations", json=ROW)
            statuses[response.status_code] += 1
            if response.status_code == 200:
                answered.append(response.headers[VERSION])

    def wait_for_only(version: str) -> None:
        deadline = time.monotonic() + 10
        while True:
            seen = len(answered)
            time.sleep(0.3)
            if set(answered[seen:]) == {version}:
                return
            assert time.monotonic() < deadline, f"still not only {version}: {answered[-5:]}"

    with serving(endpoint_server(tracking)) as client:
        workers = [threading.Thread(target=load, args=(client,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            wait_for_only("v1")
            tracking.update_endpoint("fraud", routes=[route(versions["v2"], 100)])
            wait_for_only("v2")
            tracking.update_endpoint(
                "fraud", routes=[route(versions["v1"], 50), route(versions["v2"], 50)]
            )
            deadline = time.monotonic() + 10
            while True:
                seen = len(answered)
                time.sleep(0.3)
                if set(answered[seen:]) == {"v1", "v2"}:
                    break
                assert time.monotonic() < deadline
            tracking.update_endpoint("fraud", routes=[route(versions["v1"], 100)])
            wait_for_only("v1")
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    assert set(statuses) == {200}, statuses
    assert statuses[200] > 50


def test_a_bad_new_configuration_keeps_the_last_good_one(
    tracking: heron.Client, versions: dict[str, Path], tmp_path: Path
) -> None:
    tracking.create_endpoint("fraud", [route(versions["v1"], 100)])
    with serving(endpoint_server(tracking)) as client:
        tracking.update_endpoint("fraud", routes=[route(tmp_path / "missing", 100)])
        time.sleep(0.3)  # several polls
        response = client.post("/invocations", json=ROW)
        assert response.status_code == 200
        assert response.headers[VERSION] == "v1"


def test_an_alias_route_follows_the_alias_when_it_moves(tracking: heron.Client) -> None:
    import numpy as np

    from heron.models import Signature, infer_signature
    from serving_pyfunc_models import Constant

    signature = Signature(infer_signature(np.zeros((1, 3))).inputs)
    experiment = tracking.get_or_create_experiment("fraud")
    for value in (1.0, 2.0):
        run = tracking.create_run(experiment.id)
        heron.pyfunc.log_model(
            Constant(),
            name="model",
            run_id=run.id,
            client=tracking,
            signature=signature,
            model_config={"value": value},
        )
        tracking.register_model(f"runs:/{run.id}/model", "fraud")
    tracking.set_alias("fraud", "champion", 1)
    tracking.create_endpoint("fraud", [EndpointRoute("models:/fraud@champion", 100)])
    with serving(endpoint_server(tracking)) as client:
        first = client.post("/invocations", json=ROW)
        assert first.headers[VERSION] == "1"
        assert first.json() == {"predictions": [1.0]}
        tracking.set_alias("fraud", "champion", 2)
        deadline = time.monotonic() + 10
        while client.post("/invocations", json=ROW).headers[VERSION] != "2":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.post("/invocations", json=ROW).json() == {"predictions": [2.0]}


def test_backoff_doubles_to_its_cap() -> None:
    delays = [backoff_delay(n, 0.5, 4.0) for n in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert backoff_delay(3, 10.0, 4.0) == 10.0  # a cap below the interval never shortens it
    assert backoff_delay(10_000, 0.5, 4.0) == 4.0


def test_an_unreachable_control_plane_is_polled_with_backoff() -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ServingSettings(
        endpoint="fraud",
        tracking_uri=f"http://127.0.0.1:{port}",
        poll_interval_s=0.01,
        poll_backoff_max_s=0.16,
    )
    with TestClient(create_app(settings)) as client:
        time.sleep(0.8)
        health = client.get("/health")
        metrics = client.get("/metrics").text
    # Not ready, and saying why; the process stays up.
    assert health.status_code == 503
    assert "not ready" in health.json()["message"]
    found = re.search(r"^heron_serving_control_plane_failures_total (\S+)$", metrics, re.M)
    assert found is not None, metrics
    failures = float(found[1])
    # Every 10 ms that would be ~80 polls; backing off 20, 40, 80, 160, 160... ms, about 7.
    assert 3 <= failures <= 12, failures
    assert "heron_serving_poll_delay_seconds 0.16" in metrics
