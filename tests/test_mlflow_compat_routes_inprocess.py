"""MLflow routes whose meaning lives in the store, in-process on SQLite and PostgreSQL:
experiment search, experiment tags, latest metrics in run listings, sampled histories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi import TestClient
from heron.server import ServerSettings, create_app

API = "/api/2.0/mlflow"


@pytest.fixture
def client(store: object, store_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    # ``store`` gives this test an empty database (see conftest); the app opens its own.
    settings = ServerSettings(store_uri, str(tmp_path / "artifacts"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _experiment(client: TestClient, name: str, **tags: str) -> str:
    body = {"name": name, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
    experiment_id: str = _ok(client.post(f"{API}/experiments/create", json=body))["experiment_id"]
    return experiment_id


def _names(client: TestClient, **body: Any) -> list[str]:
    found = _ok(client.post(f"{API}/experiments/search", json=body))
    return [e["name"] for e in found.get("experiments", [])]


def test_experiment_search_takes_mlflow_filters_and_order(client: TestClient) -> None:
    _experiment(client, "fraud-a", team="risk", tier="1")
    _experiment(client, "fraud-b", team="growth")
    _experiment(client, "Fraud-C", team="risk")
    _experiment(client, "churn")

    # MLflow lists the newest first when no order is given.
    assert _names(client) == ["churn", "Fraud-C", "fraud-b", "fraud-a"]
    assert _names(client, filter="name LIKE 'fraud-%'", order_by=["name"]) == [
        "fraud-a",
        "fraud-b",
    ]
    assert _names(client, filter="name ILIKE 'fraud-%'", order_by=["name ASC"]) == [
        "Fraud-C",
        "fraud-a",
        "fraud-b",
    ]
    assert _names(client, filter="tags.team = 'risk'", order_by=["name DESC"]) == [
        "fraud-a",
        "Fraud-C",
    ]
    assert _names(client, filter="tags.team != 'risk'") == ["fraud-b"]  # the tag must exist
    assert _names(client, filter="attribute.name != 'churn' AND tags.tier = '1'") == ["fraud-a"]
    assert _names(client, filter="name = 'churn'") == ["churn"]
    created = _ok(client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "churn"}))
    since = created["experiment"]["creation_time"]
    assert _names(client, filter=f"creation_time >= {since}")[0] == "churn"
    assert _names(client, filter=f"creation_time > {since + 1}") == []
    assert _names(client, order_by=["last_update_time DESC", "name"])[0] == "churn"


def test_experiment_search_pages_in_order_and_refuses_bad_filters(client: TestClient) -> None:
    for index in range(5):
        _experiment(client, f"paged-{index}")
    seen: list[str] = []
    token = None
    while True:
        body: dict[str, Any] = {"max_results": 2, "order_by": ["name DESC"]}
        if token:
            body["page_token"] = token
        page = _ok(client.post(f"{API}/experiments/search", json=body))
        seen.extend(e["name"] for e in page["experiments"])
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == [f"paged-{index}" for index in reversed(range(5))]
    # The GET form, as MLflow's UI sends it.
    got = _ok(client.get(f"{API}/experiments/search", params={"filter": "name = 'paged-3'"}))
    assert [e["name"] for e in got["experiments"]] == ["paged-3"]

    for bad in ("name LIKE", "metrics.auc > 1", "creation_time > 'soon'"):
        response = client.post(f"{API}/experiments/search", json={"filter": bad})
        assert response.status_code == 400, bad
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    response = client.post(f"{API}/experiments/search", json={"order_by": ["tags.team"]})
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_experiment_ids_filter_as_strings(client: TestClient) -> None:
    first = _experiment(client, "first")
    _experiment(client, "second")
    assert _names(client, filter=f"attributes.experiment_id = '{first}'") == ["first"]
    assert _names(client, filter=f"experiment_id IN ('{first}', '999')") == ["first"]
    response = client.post(f"{API}/experiments/search", json={"filter": "experiment_id > '1'"})
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_experiment_tags_are_set_and_deleted_on_active_experiments(client: TestClient) -> None:
    experiment_id = _experiment(client, "tagged", owner="ana", team="risk")
    _ok(
        client.post(
            f"{API}/experiments/delete-experiment-tag",
            json={"experiment_id": experiment_id, "key": "owner"},
        )
    )
    got = _ok(client.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}))
    assert got["experiment"]["tags"] == [{"key": "team", "value": "risk"}]

    again = client.post(
        f"{API}/experiments/delete-experiment-tag",
        json={"experiment_id": experiment_id, "key": "owner"},
    )
    assert again.status_code == 404
    assert again.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    _ok(client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}))
    for route, body in (
        ("set-experiment-tag", {"key": "team", "value": "x"}),
        ("delete-experiment-tag", {"key": "team"}),
    ):
        refused = client.post(
            f"{API}/experiments/{route}", json={"experiment_id": experiment_id, **body}
        )
        assert refused.status_code == 400, route
        assert "must be in the 'active' state" in refused.json()["message"]


def _run_id(client: TestClient) -> str:
    found = _ok(client.get(f"{API}/experiments/search", params={"filter": "name = 'metrics'"}))
    known = found.get("experiments")
    experiment_id = known[0]["experiment_id"] if known else _experiment(client, "metrics")
    created = _ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))
    run_id: str = created["run"]["info"]["run_id"]
    return run_id


def test_run_listings_carry_the_latest_metrics_step_and_timestamp(client: TestClient) -> None:
    run_id = _run_id(client)
    points = [
        {"key": "loss", "value": 0.9, "timestamp": 1_700_000_000_000, "step": 1},
        {"key": "loss", "value": 0.4, "timestamp": 1_700_000_000_500, "step": 7},
        {"key": "loss", "value": 0.6, "timestamp": 1_700_000_000_900, "step": 3},
        {"key": "auc", "value": 0.8, "timestamp": 1_700_000_000_100, "step": 0},
    ]
    _ok(client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": points}))

    got = _ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    expected = [
        {"key": "auc", "value": 0.8, "timestamp": 1_700_000_000_100, "step": 0},
        # The highest step wins, not the last logged point.
        {"key": "loss", "value": 0.4, "timestamp": 1_700_000_000_500, "step": 7},
    ]
    assert sorted(got["data"]["metrics"], key=lambda m: m["key"]) == expected
    experiment_id = got["info"]["experiment_id"]
    found = _ok(client.post(f"{API}/runs/search", json={"experiment_ids": [experiment_id]}))
    assert sorted(found["runs"][0]["data"]["metrics"], key=lambda m: m["key"]) == expected


def _bulk(client: TestClient, run_ids: list[str], **query: Any) -> Any:
    return client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={"run_ids": run_ids, "metric_key": "loss", **query},
    )


def test_history_bulk_interval_samples_as_mlflow_does(client: TestClient) -> None:
    long_run, short_run = _run_id(client), _run_id(client)
    series = [
        {"key": "loss", "value": float(i), "timestamp": 1_000 + i, "step": i} for i in range(1000)
    ]
    _ok(client.post(f"{API}/runs/log-batch", json={"run_id": long_run, "metrics": series}))
    _ok(client.post(f"{API}/runs/log-batch", json={"run_id": short_run, "metrics": series[:3]}))

    sampled = _ok(_bulk(client, [long_run, short_run], max_results=10))["metrics"]
    long_steps = [m["step"] for m in sampled if m["run_id"] == long_run]
    # Ten buckets of 100 points, the first of each, and the last point in place of the
    # last bucket's first: MLflow's SQL store (NTILE) picks the same.
    assert long_steps == [0, 100, 200, 300, 400, 500, 600, 700, 800, 999]
    assert [m["step"] for m in sampled if m["run_id"] == short_run] == [0, 1, 2]
    assert sampled[0] == {
        "key": "loss",
        "value": 0.0,
        "timestamp": 1_000,
        "step": 0,
        "run_id": long_run,
    }

    window = _ok(_bulk(client, [long_run], start_step=10, end_step=19, max_results=4))["metrics"]
    assert [m["step"] for m in window] == [10, 13, 16, 19]
    assert [m["step"] for m in _ok(_bulk(client, [long_run], max_results=1))["metrics"]] == [999]
    assert len(_ok(_bulk(client, [long_run]))["metrics"]) == 1000  # 2,500 by default


def test_history_bulk_interval_refuses_what_mlflow_refuses(client: TestClient) -> None:
    run_id = _run_id(client)
    for query, message in (
        ({"start_step": 5}, "both must be specified"),
        ({"start_step": 5, "end_step": 1}, "end_step must be greater"),
        ({"max_results": 2501}, "between 1 and 2500"),
        ({"max_results": 0}, "between 1 and 2500"),
    ):
        refused = _bulk(client, [run_id], **query)
        assert refused.status_code == 400, query
        assert message in refused.json()["message"]
    too_many = _bulk(client, [run_id] * 101)
    assert "at most 100 run_ids" in too_many.json()["message"]
    missing = _bulk(client, [run_id, "0" * 32])
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_server_info_offers_multipart_uploads_when_proxying(
    client: TestClient, store_uri: str, tmp_path: Path
) -> None:
    for prefix in ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"):
        info = _ok(client.get(f"{prefix}/server-info"))
        assert info["multipart_uploads_enabled"] is True
        assert info["multipart_downloads_enabled"] is False
    direct = ServerSettings(store_uri, str(tmp_path / "direct"), artifacts_mode="direct")
    with TestClient(create_app(direct)) as direct_client:
        info = _ok(direct_client.get("/api/3.0/mlflow/server-info"))
        assert info["multipart_uploads_enabled"] is False


def test_log_model_appends_to_the_runs_model_history(client: TestClient) -> None:
    run_id = _run_id(client)
    for path in ("model", "calibrated"):
        summary = {"artifact_path": path, "flavors": {"python_function": {}}}
        body = {"run_id": run_id, "model_json": json.dumps(summary)}
        _ok(client.post(f"{API}/runs/log-model", json=body))
    run = _ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    assert [entry["artifact_path"] for entry in history] == ["model", "calibrated"]
    bad = client.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": "{"})
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_unknown_mlflow_routes_answer_in_mlflows_format(client: TestClient) -> None:
    missing = client.get(f"{API}/runs/no-such-route")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    wrong_method = client.get(f"{API}/runs/log-metric")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["error_code"] == "BAD_REQUEST"
    # Heron's own format just outside MLflow's prefixes.
    assert "error" in client.get("/api/2.0/mlflowish").json()


def test_log_batch_reads_plain_and_unusual_batches_alike(client: TestClient) -> None:
    run_id = _run_id(client)
    plain = {"key": "loss", "value": "NaN", "timestamp": 5, "step": 1}
    unusual = {"key": "loss", "value": 0.5, "timestamp": "6", "step": "2"}  # strings, as proto3
    for point in (plain, unusual):
        _ok(client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [point]}))
    history = _ok(
        client.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"})
    )
    assert [(m["value"], m["timestamp"], m["step"]) for m in history["metrics"]] == [
        ("NaN", 5, 1),
        (0.5, 6, 2),
    ]
    for bad in (
        {"run_id": run_id + "\x00", "metrics": [plain]},
        {"run_id": run_id, "metrics": [{**plain, "timestamp": 2**63}]},
        {"run_id": run_id, "metrics": [{**plain, "value": "lots"}]},
        {"metrics": [plain]},
    ):
        refused = client.post(f"{API}/runs/log-batch", json=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
