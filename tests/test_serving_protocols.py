"""Scoring server protocol conformance: MLflow /invocations and Open Inference Protocol V2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import heron
from asgi import TestClient
from heron.models import load
from heron.serving import ServingSettings
from serving_helpers import (
    COLUMNS,
    column_model,
    scaled_sum_model,
    serving,
    tensor_model,
)

ROWS = [[0.9, 0.1, 0.2], [0.1, 0.5, 0.7]]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {"tensor": tensor_model(root / "tensor"), "columns": column_model(root / "columns")}


@pytest.fixture(params=["tensor", "columns"])
def client(request: pytest.FixtureRequest, models: dict[str, Path]) -> Iterator[TestClient]:
    with serving(ServingSettings(str(models[request.param]), model_name="fraud")) as client:
        yield client


def expected(models: dict[str, Path], rows: list[list[float]] = ROWS) -> list[int]:
    return [int(v) for v in load(models["tensor"]).predict(np.array(rows))]


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
        {"dataframe_records": [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]},
        {"instances": ROWS},
        {"inputs": ROWS},
    ],
    ids=["dataframe_split", "dataframe_records", "instances", "inputs"],
)
def test_invocations_formats_answer_the_models_predictions(
    client: TestClient, models: dict[str, Path], payload: dict[str, object]
) -> None:
    response = client.post("/invocations", json=payload)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected(models)}
    assert response.headers["x-heron-model-version"] == "1"


def test_invocations_accept_csv(client: TestClient, models: dict[str, Path]) -> None:
    csv = pd.DataFrame(ROWS, columns=COLUMNS).to_csv(index=False)
    response = client.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected(models)}


def test_column_model_takes_named_inputs(models: dict[str, Path]) -> None:
    with serving(ServingSettings(str(models["columns"]))) as client:
        columns = {name: [row[i] for row in ROWS] for i, name in enumerate(COLUMNS)}
        response = client.post("/invocations", json={"inputs": columns})
    assert response.json() == {"predictions": expected(models)}


def test_params_reach_the_model_and_unknown_params_are_refused(tmp_path: Path) -> None:
    with serving(ServingSettings(str(scaled_sum_model(tmp_path / "m")))) as client:
        default = client.post("/invocations", json={"inputs": ROWS})
        scaled = client.post("/invocations", json={"inputs": ROWS, "params": {"scale": 10}})
        v2 = client.post(
            "/v2/models/m/infer",
            json={
                "parameters": {"scale": 2.0, "content_type": "np"},
                "inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": ROWS[0]}],
            },
        )
        unknown = client.post("/invocations", json={"inputs": ROWS, "params": {"nope": 1}})
    assert default.json() == {"predictions": pytest.approx([1.2, 1.3])}
    assert scaled.json() == {"predictions": pytest.approx([12.0, 13.0])}
    assert v2.json()["outputs"][0]["data"] == pytest.approx([2.4])
    assert unknown.status_code == 400
    assert "unknown param(s) ['nope']" in unknown.json()["message"]


def test_v2_health_metadata_and_infer(client: TestClient, models: dict[str, Path]) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/v2/models/fraud/ready").status_code == 200
    metadata = client.get("/v2/models/fraud").json()
    assert metadata["name"] == "fraud"
    assert metadata["versions"] == ["1"]
    assert metadata["platform"] == "heron_sklearn"
    assert metadata["inputs"]
    request = {
        "id": "req-1",
        "inputs": [
            {
                "name": "x",
                "shape": [2, 3],
                "datatype": "FP64",
                "data": [v for row in ROWS for v in row],
            }
        ],
    }
    response = client.post("/v2/models/fraud/infer", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "req-1"
    assert body["model_name"] == "fraud"
    assert body["model_version"] == "1"
    [output] = body["outputs"]
    assert output["shape"] == [2]
    assert output["datatype"] == "INT64"
    assert output["data"] == expected(models)
    versioned = client.post("/v2/models/fraud/versions/1/infer", json=request)
    assert versioned.json()["outputs"] == body["outputs"]


def test_v2_column_model_takes_one_input_per_column(models: dict[str, Path]) -> None:
    inputs = [
        {"name": name, "shape": [2], "datatype": "FP64", "data": [row[i] for row in ROWS]}
        for i, name in enumerate(COLUMNS)
    ]
    with serving(ServingSettings(str(models["columns"]), model_name="fraud")) as client:
        response = client.post("/v2/models/fraud/infer", json={"inputs": inputs})
    assert response.json()["outputs"][0]["data"] == expected(models)


def test_ping_health_version_and_metrics(client: TestClient) -> None:
    assert client.get("/ping").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/version").text == heron.__version__
    client.post("/invocations", json={"instances": ROWS})
    metrics = client.get("/metrics").text
    assert 'heron_serving_requests_total{protocol="mlflow",status="200",version="1"} 1.0' in metrics
    assert "heron_serving_request_duration_seconds_bucket" in metrics
    assert 'heron_serving_batch_rows_sum{version="1"} 2.0' in metrics
