"""MLflow's JSON conventions on Heron's routes, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi import TestClient
from heron.server import ServerSettings, create_app
from heron.server.mlflow_compat.search import heron_filter, heron_order_by

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


def _run(client: TestClient, **body: Any) -> dict[str, Any]:
    experiment_id = _ok(client.post(f"{API}/experiments/create", json={"name": "e"}))[
        "experiment_id"
    ]
    created = _ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment_id, **body}))
    run: dict[str, Any] = created["run"]
    return run


def test_runs_use_mlflow_field_names_and_reserved_tags(client: TestClient) -> None:
    run = _run(
        client,
        user_id="ana",
        start_time=1_700_000_000_000,
        tags=[
            {"key": "mlflow.runName", "value": "baseline"},
            {"key": "mlflow.source.git.commit", "value": "abc123"},
        ],
    )
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert info["run_name"] == "baseline"
    assert info["user_id"] == "ana"
    assert info["start_time"] == 1_700_000_000_000
    assert info["experiment_id"] == "1"
    assert info["artifact_uri"] == f"mlflow-artifacts:/1/{info['run_id']}/artifacts"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["mlflow.runName"] == "baseline"
    assert tags["mlflow.user"] == "ana"

    # Heron's own API holds the same run, with the reserved tags as fields.
    native = client.get(f"/api/v1/runs/{info['run_id']}").json()
    assert (native["name"], native["user"], native["git_commit"]) == ("baseline", "ana", "abc123")
    assert "mlflow.runName" not in native["tags"]


def test_old_clients_name_runs_run_uuid_and_ajax_api_answers_too(client: TestClient) -> None:
    run_id = _run(client)["info"]["run_id"]
    _ok(
        client.post(
            "/ajax-api/2.0/mlflow/runs/log-metric",
            json={"run_uuid": run_id, "key": "loss", "value": "NaN", "timestamp": 5, "step": 2},
        )
    )
    history = _ok(client.get(f"{API}/metrics/get-history?run_uuid={run_id}&metric_key=loss"))
    assert history == {"metrics": [{"key": "loss", "value": "NaN", "timestamp": 5, "step": 2}]}


def test_errors_have_mlflow_codes_and_statuses(client: TestClient) -> None:
    missing = client.get(f"{API}/runs/get?run_id={'f' * 32}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert set(missing.json()) == {"error_code", "message"}

    no_value = client.post(f"{API}/runs/log-metric", json={"run_id": "x", "key": "k"})
    assert no_value.status_code == 400
    assert no_value.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "value" in no_value.json()["message"]

    no_run = client.post(f"{API}/runs/log-parameter", json={"key": "k", "value": "v"})
    assert no_run.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Missing value for required parameter 'run_id'",
    }
    bad_filter = client.post(
        f"{API}/runs/search", json={"experiment_ids": ["1"], "filter": "metrics.a >> 1"}
    )
    assert bad_filter.status_code == 400
    assert bad_filter.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    _ok(client.post(f"{API}/experiments/create", json={"name": "taken"}))
    taken = client.post(f"{API}/experiments/create", json={"name": "taken"})
    assert (taken.status_code, taken.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")


def test_search_pages_end_without_a_token(client: TestClient) -> None:
    experiment_id = _run(client)["info"]["experiment_id"]
    for _ in range(2):
        _ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))
    body = {"experiment_ids": [experiment_id], "max_results": 2}
    first = _ok(client.post(f"{API}/runs/search", json=body))
    assert len(first["runs"]) == 2
    last = _ok(
        client.post(f"{API}/runs/search", json={**body, "page_token": first["next_page_token"]})
    )
    assert len(last["runs"]) == 1
    assert "next_page_token" not in last


def test_direct_mode_shows_the_stores_own_uris(
    store: object, store_uri: str, tmp_path: Path
) -> None:
    settings = ServerSettings(store_uri, str(tmp_path / "art"), artifacts_mode="direct")
    with TestClient(create_app(settings)) as client:
        run = _run(client)
    assert run["info"]["artifact_uri"] == f"{tmp_path / 'art'}/1/{run['info']['run_id']}/artifacts"


def test_reserved_tags_in_filters_become_run_fields() -> None:
    assert heron_filter("metrics.a > 1") == "metrics.a > 1"
    assert heron_filter("tags.`mlflow.runName` = 'it\\'s'") == "attributes.`run_name` = 'it\\'s'"
    assert heron_filter("tags.mlflow.runName LIKE 'a%' AND tags.mlflow.source.type = 'LOCAL'") == (
        "(attributes.`run_name` LIKE 'a%') AND (tags.`mlflow.source.type` = 'LOCAL')"
    )
    assert heron_filter("tags.mlflow.user IN ('a', 'b')") == "attributes.`user` IN ('a', 'b')"
    assert heron_order_by(["tags.`mlflow.runName` DESC", ""]) == ["attributes.`run_name` DESC"]
    assert heron_order_by(["metrics.auc", ""]) == ["metrics.auc"]
