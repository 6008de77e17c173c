"""The tracking server's experiment and run routes, driven in-process through the real app."""

from __future__ import annotations

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


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", str(tmp_path / "artifacts"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code
    return body


def _experiment(client: TestClient, name: str = "exp") -> str:
    experiment_id: str = _ok(client.post(f"{API}/experiments", json={"name": name}), 201)["id"]
    return experiment_id


def _run(client: TestClient, experiment_id: str, **fields: Any) -> dict[str, Any]:
    body = {"experiment_id": experiment_id, **fields}
    run: dict[str, Any] = _ok(client.post(f"{API}/runs", json=body), 201)
    return run


# -- experiments -------------------------------------------------------------------------


def test_experiment_lifecycle(client: TestClient) -> None:
    created = _ok(
        client.post(f"{API}/experiments", json={"name": "mnist", "tags": {"team": "vision"}}),
        201,
    )
    assert created["name"] == "mnist"
    assert created["tags"] == {"team": "vision"}
    assert created["lifecycle_stage"] == "active"
    eid = created["id"]
    assert _ok(client.get(f"{API}/experiments/{eid}")) == created
    assert _ok(client.get(f"{API}/experiments-by-name/mnist"))["id"] == eid

    renamed = _ok(client.patch(f"{API}/experiments/{eid}", json={"name": "team/mnist"}))
    assert renamed["name"] == "team/mnist"
    # A name holding '/' still resolves, encoded or not.
    assert _ok(client.get(f"{API}/experiments-by-name/team%2Fmnist"))["id"] == eid
    assert _ok(client.get(f"{API}/experiments-by-name/team/mnist"))["id"] == eid

    _ok(client.put(f"{API}/experiments/{eid}/tags/stage/owner", json={"value": "ana"}), 204)
    assert _ok(client.get(f"{API}/experiments/{eid}"))["tags"]["stage/owner"] == "ana"

    _ok(client.delete(f"{API}/experiments/{eid}"), 204)
    assert _ok(client.get(f"{API}/experiments/{eid}"))["lifecycle_stage"] == "deleted"
    assert _ok(client.get(f"{API}/experiments"))["experiments"] == []
    deleted = _ok(client.get(f"{API}/experiments", params={"view": "deleted"}))["experiments"]
    assert [e["id"] for e in deleted] == [eid]
    _ok(client.post(f"{API}/experiments/{eid}/restore"), 204)
    assert [e["id"] for e in _ok(client.get(f"{API}/experiments"))["experiments"]] == [eid]


def test_experiment_errors(client: TestClient) -> None:
    _experiment(client, "taken")
    _error(client.post(f"{API}/experiments", json={"name": "taken"}), 409, "ALREADY_EXISTS")
    _error(client.get(f"{API}/experiments/999"), 404, "NOT_FOUND")
    _error(client.get(f"{API}/experiments/not-a-number"), 404, "NOT_FOUND")
    _error(client.get(f"{API}/experiments-by-name/nobody"), 404, "NOT_FOUND")
    _error(client.patch(f"{API}/experiments/999", json={"name": "x"}), 404, "NOT_FOUND")
    _error(client.delete(f"{API}/experiments/999"), 404, "NOT_FOUND")
    _error(client.post(f"{API}/experiments", json={"name": ""}), 400, "INVALID_ARGUMENT")
    bad_view = _error(client.get(f"{API}/experiments?view=some"), 400, "INVALID_ARGUMENT")
    assert "view" in bad_view["message"]


def test_experiment_paging_and_name_filter(client: TestClient) -> None:
    for name in ("alpha-1", "alpha-2", "beta"):
        _experiment(client, name)
    page = _ok(client.get(f"{API}/experiments", params={"max_results": 2}))
    assert len(page["experiments"]) == 2
    assert page["next_page_token"]
    rest = _ok(
        client.get(
            f"{API}/experiments", params={"max_results": 2, "page_token": page["next_page_token"]}
        )
    )
    names = {e["name"] for e in page["experiments"] + rest["experiments"]}
    assert names == {"alpha-1", "alpha-2", "beta"}
    assert rest["next_page_token"] is None
    alphas = _ok(client.get(f"{API}/experiments", params={"name_like": "alpha%"}))
    assert sorted(e["name"] for e in alphas["experiments"]) == ["alpha-1", "alpha-2"]
    _error(client.get(f"{API}/experiments?max_results=0"), 400, "INVALID_ARGUMENT")


# -- runs --------------------------------------------------------------------------------


def test_run_lifecycle(client: TestClient) -> None:
    eid = _experiment(client)
    run = _run(client, eid, run_name="first", user="ana", tags={"k": "v"}, start_time=1000)
    assert (run["name"], run["user"], run["tags"], run["start_time"]) == (
        "first",
        "ana",
        {"k": "v"},
        1000,
    )
    assert run["status"] == "RUNNING"
    rid = run["id"]
    assert _ok(client.get(f"{API}/runs/{rid}")) == run

    patched = _ok(client.patch(f"{API}/runs/{rid}", json={"run_name": "renamed"}))
    assert patched["name"] == "renamed"
    _ok(client.post(f"{API}/runs/{rid}/end", json={"status": "FAILED"}), 204)
    ended = _ok(client.get(f"{API}/runs/{rid}"))
    assert ended["status"] == "FAILED"
    assert ended["end_time"] is not None

    _ok(client.delete(f"{API}/runs/{rid}"), 204)
    assert _ok(client.get(f"{API}/runs/{rid}"))["lifecycle_stage"] == "deleted"
    _ok(client.post(f"{API}/runs/{rid}/restore"), 204)
    assert _ok(client.get(f"{API}/runs/{rid}"))["lifecycle_stage"] == "active"


def test_run_errors(client: TestClient) -> None:
    eid = _experiment(client)
    rid = _run(client, eid)["id"]
    _error(client.get(f"{API}/runs/nope"), 404, "NOT_FOUND")
    _error(client.post(f"{API}/runs", json={"experiment_id": "999"}), 404, "NOT_FOUND")
    _error(client.patch(f"{API}/runs/nope", json={"run_name": "x"}), 404, "NOT_FOUND")
    _error(client.delete(f"{API}/runs/nope"), 404, "NOT_FOUND")
    _error(
        client.post(f"{API}/runs/{rid}/end", json={"status": "RUNNING"}), 400, "INVALID_ARGUMENT"
    )
    bad = _error(
        client.post(f"{API}/runs/{rid}/end", json={"status": "DONE"}), 400, "INVALID_ARGUMENT"
    )
    assert "status" in bad["message"]
    _error(client.delete(f"{API}/runs/{rid}/tags/missing"), 404, "NOT_FOUND")


def test_log_batch_tags_params_and_param_change(client: TestClient) -> None:
    rid = _run(client, _experiment(client))["id"]
    batch = {
        "metrics": [{"key": "train/loss", "value": 0.5, "timestamp": 10, "step": 1}],
        "params": [{"key": "lr", "value": "0.1"}, {"key": "layers", "value": 3}],
        "tags": [{"key": "team/owner", "value": "ana"}],
    }
    _ok(client.post(f"{API}/runs/{rid}/batch", json=batch), 204)
    run = _ok(client.get(f"{API}/runs/{rid}"))
    assert run["params"] == {"lr": "0.1", "layers": "3"}
    assert run["metrics"] == {"train/loss": 0.5}
    assert run["tags"]["team/owner"] == "ana"

    changed = {"params": [{"key": "lr", "value": "0.2"}]}
    _error(client.post(f"{API}/runs/{rid}/batch", json=changed), 400, "INVALID_ARGUMENT")
    assert _ok(client.get(f"{API}/runs/{rid}"))["params"]["lr"] == "0.1"

    _ok(client.delete(f"{API}/runs/{rid}/tags/team/owner"), 204)
    assert "team/owner" not in _ok(client.get(f"{API}/runs/{rid}"))["tags"]
    _error(client.post(f"{API}/runs/nope/batch", json=batch), 404, "NOT_FOUND")


def test_non_finite_metrics_round_trip(client: TestClient) -> None:
    rid = _run(client, _experiment(client))["id"]
    values = ["NaN", "Infinity", "-Infinity", 1.5]
    points = [{"key": "m", "value": v, "timestamp": 5, "step": i} for i, v in enumerate(values)]
    _ok(client.post(f"{API}/runs/{rid}/batch", json={"metrics": points}), 204)
    history = _ok(client.get(f"{API}/runs/{rid}/metrics/m/history"))
    assert [p["value"] for p in history["metrics"]] == values
    _ok(
        client.post(
            f"{API}/runs/{rid}/batch",
            json={"metrics": [{"key": "last", "value": "-Infinity", "timestamp": 1}]},
        ),
        204,
    )
    assert _ok(client.get(f"{API}/runs/{rid}"))["metrics"]["last"] == "-Infinity"


def test_log_inputs(client: TestClient) -> None:
    rid = _run(client, _experiment(client))["id"]
    dataset = {
        "name": "iris",
        "digest": "abc123",
        "source_type": "pandas",
        "source": "memory",
        "schema": {"columns": ["a", "b"]},
        "profile": {"rows": 150},
    }
    body = {"inputs": [{"dataset": dataset, "context": "training"}]}
    _ok(client.post(f"{API}/runs/{rid}/inputs", json=body), 204)
    inputs = _ok(client.get(f"{API}/runs/{rid}"))["inputs"]
    assert inputs == [{"dataset": dataset, "context": "training"}]
    empty_name = {"inputs": [{"dataset": {**dataset, "name": ""}}]}
    _error(client.post(f"{API}/runs/{rid}/inputs", json=empty_name), 400, "INVALID_ARGUMENT")


def test_search_runs_filter_order_and_pages(client: TestClient) -> None:
    eid = _experiment(client)
    for i in range(5):
        rid = _run(client, eid, run_name=f"r{i}")["id"]
        point = {"key": "loss", "value": i / 10, "timestamp": 1}
        _ok(client.post(f"{API}/runs/{rid}/batch", json={"metrics": [point]}), 204)
    query = {
        "experiment_ids": [eid],
        "filter": "metrics.loss < 0.25",
        "order_by": ["metrics.loss DESC"],
    }
    found = _ok(client.post(f"{API}/runs/search", json=query))
    assert [r["name"] for r in found["runs"]] == ["r2", "r1", "r0"]

    first = _ok(client.post(f"{API}/runs/search", json={"experiment_ids": [eid], "max_results": 3}))
    assert len(first["runs"]) == 3
    second = _ok(
        client.post(
            f"{API}/runs/search",
            json={
                "experiment_ids": [eid],
                "max_results": 3,
                "page_token": first["next_page_token"],
            },
        )
    )
    assert len(second["runs"]) == 2
    assert second["next_page_token"] is None


def test_search_syntax_error_has_position(client: TestClient) -> None:
    eid = _experiment(client)
    text = "metrics.loss <<< 1"
    response = client.post(f"{API}/runs/search", json={"experiment_ids": [eid], "filter": text})
    error = _error(response, 400, "SEARCH_SYNTAX_ERROR")
    assert error["text"] == text
    assert isinstance(error["position"], int)
    assert 0 < error["position"] < len(text)
    assert error["reason"]
    _error(client.post(f"{API}/runs/search", json={"experiment_ids": []}), 400, "INVALID_ARGUMENT")


def test_artifact_location_must_stay_inside_the_server_root(
    client: TestClient, tmp_path: Path
) -> None:
    for outside in ["/etc", "?", "relative/dir", f"{tmp_path}/artifacts/../escape"]:
        response = client.post(
            "/api/v1/experiments", json={"name": f"x{len(outside)}", "artifact_location": outside}
        )
        assert response.status_code == 400, outside
        assert "artifact root" in response.json()["error"]["message"]
    inside = f"{tmp_path}/artifacts/team-a"
    created = client.post("/api/v1/experiments", json={"name": "ok", "artifact_location": inside})
    assert created.status_code == 201, created.text
    assert created.json()["artifact_location"] == inside
