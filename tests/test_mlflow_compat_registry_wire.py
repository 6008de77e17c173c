"""MLflow's registry JSON on Heron's routes, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi import TestClient
from heron.server import ServerSettings, create_app

API = "/api/2.0/mlflow"


@pytest.fixture
def client(store: object, store_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(store_uri, str(tmp_path / "artifacts"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _logged_model_with_files(client: TestClient) -> tuple[str, str]:
    experiment_id = _ok(client.post(f"{API}/experiments/create", json={"name": "e"}))[
        "experiment_id"
    ]
    run_id = _ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))["run"][
        "info"
    ]["run_id"]
    model = _ok(
        client.post(
            f"{API}/logged-models",
            json={"experiment_id": experiment_id, "name": "model", "source_run_id": run_id},
        )
    )["model"]["info"]
    assert model["status"] == "LOGGED_MODEL_PENDING"
    location = model["artifact_uri"]
    assert location == f"mlflow-artifacts:/{experiment_id}/models/{model['model_id']}/artifacts"
    path = location.removeprefix("mlflow-artifacts:/")
    upload = client.put(f"/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel", content=b"x: 1\n")
    assert upload.status_code == 200, upload.text
    finalized = client.patch(
        f"{API}/logged-models/{model['model_id']}", json={"status": "LOGGED_MODEL_READY"}
    )
    assert _ok(finalized)["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    return model["model_id"], run_id


def test_versions_use_mlflow_field_names(client: TestClient) -> None:
    model_id, run_id = _logged_model_with_files(client)
    _ok(client.post(f"{API}/registered-models/create", json={"name": "fraud"}))
    created = _ok(
        client.post(
            f"{API}/model-versions/create",
            json={"name": "fraud", "source": f"models:/{model_id}", "run_id": run_id},
        )
    )["model_version"]
    assert created["version"] == "1"
    assert created["current_stage"] == "None"
    assert created["status"] == "READY"
    assert created["run_id"] == run_id
    assert created["model_id"] == model_id
    assert created["user_id"] == "anonymous"
    assert created["creation_timestamp"] == created["last_updated_timestamp"] > 0
    _ok(
        client.post(
            f"{API}/registered-models/alias",
            json={"name": "fraud", "alias": "champion", "version": "1"},
        )
    )
    model = _ok(client.get(f"{API}/registered-models/get", params={"name": "fraud"}))[
        "registered_model"
    ]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    assert [v["aliases"] for v in model["latest_versions"]] == [["champion"]]
    uri = _ok(
        client.get(
            f"{API}/model-versions/get-download-uri", params={"name": "fraud", "version": "1"}
        )
    )
    assert uri["artifact_uri"].endswith(f"/models/{model_id}/artifacts")
    listed = _ok(
        client.get(
            "/api/2.0/mlflow-artifacts/artifacts",
            params={"path": uri["artifact_uri"].removeprefix("mlflow-artifacts:/")},
        )
    )
    assert listed["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 5}]


def test_a_protected_alias_answers_permission_denied(client: TestClient) -> None:
    model_id, _ = _logged_model_with_files(client)
    _ok(client.post(f"{API}/registered-models/create", json={"name": "fraud"}))
    source = {"name": "fraud", "source": f"models:/{model_id}"}
    _ok(client.post(f"{API}/model-versions/create", json=source))
    root = {"X-Heron-User": "root"}
    assert client.put("/api/v1/registry/roles/root/admin", headers=root).status_code < 300
    policy = client.put(
        "/api/v1/registered-models/fraud/policy",
        json={"protected_aliases": ["champion"]},
        headers=root,
    )
    assert policy.status_code == 200, policy.text
    refused = client.post(
        f"{API}/registered-models/alias",
        json={"name": "fraud", "alias": "champion", "version": "1"},
        headers=root,
    )
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "PERMISSION_DENIED"
    assert "protected" in refused.json()["message"]
