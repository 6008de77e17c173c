"""Bad input gets a 4xx that names the problem, never a 500, and the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asgi import TestClient
from heron.serving import ServingSettings
from serving_helpers import COLUMNS, column_model, serving, tensor_model

GOOD = {"instances": [[0.9, 0.1, 0.2]]}


@pytest.fixture(scope="module", params=["tensor", "columns"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    make = tensor_model if request.param == "tensor" else column_model
    folder = make(tmp_path_factory.mktemp("model") / "m")
    settings = ServingSettings(str(folder), model_name="fraud", max_body_bytes=10_000)
    with serving(settings) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "content_type", "names"),
    [
        (b'{"instances": [[1, 2', "application/json", "not valid JSON"),
        (b"[1, 2, 3]", "application/json", "must be an object"),
        (b'{"rows": [[1, 2, 3]]}', "application/json", "exactly one of"),
        (b'{"instances": [[1], "x"], "inputs": []}', "application/json", "exactly one of"),
        (b'{"instances": [[1, 2, 3], [4, 5]]}', "application/json", "rectangular"),
        (b'{"instances": [[1, 2]]}', "application/json", "shape"),
        (b'{"instances": [["a", "b", "c"]]}', "application/json", "got"),
        (b'{"dataframe_split": {"data": 3}}', "application/json", "dataframe_split"),
        (b'{"dataframe_split": {"columns": ["amount"], "data": [[1, 2]]}}', "", "columns names 1"),
        (b'{"dataframe_split": {"columns": ["a"], "data": [["x", 2]]}}', "", "row 0"),
        (b'{"dataframe_records": [1, 2]}', "application/json", "list of objects"),
        (b'{"instances": [[1, 2, 3]], "params": [1]}', "application/json", "params must be"),
        (b"a,b\n1,2\n3", "text/csv", ""),
        (b"<xml/>", "application/xml", "unsupported content type"),
    ],
)
def test_malformed_invocations_get_400_naming_the_problem(
    client: TestClient, body: bytes, content_type: str, names: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/invocations", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert names in response.json()["message"]
    assert client.post("/invocations", json=GOOD).status_code == 200


@pytest.fixture(scope="module")
def column_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = column_model(tmp_path_factory.mktemp("model") / "m")
    with serving(ServingSettings(str(folder), model_name="m")) as client:
        yield client


def test_missing_columns_are_named(column_client: TestClient) -> None:
    payload = {"dataframe_split": {"columns": ["amount", "age", "other"], "data": [[1, 2, 3]]}}
    response = column_client.post("/invocations", json=payload)
    assert response.status_code == 400
    assert "missing required column(s): 'score' (double)" in response.json()["message"]


def test_wrong_column_types_are_named(column_client: TestClient) -> None:
    payload = {"dataframe_records": [{"amount": "high", "age": 1.0, "score": 2.0}]}
    response = column_client.post("/invocations", json=payload)
    assert response.status_code == 400
    assert "column 'amount' expects double" in response.json()["message"]


def test_oversized_bodies_get_413(client: TestClient) -> None:
    rows = [[0.5, 0.5, 0.5]] * 2_000
    response = client.post("/invocations", json={"instances": rows})
    assert response.status_code == 413
    assert "limit of 10000 bytes" in response.json()["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"instances": ['
        for _ in range(2_000):
            yield b"[0.5, 0.5, 0.5],"
        yield b"[0.5, 0.5, 0.5]]}"

    streamed = client.post("/invocations", content=chunks())
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("request_body", "names"),
    [
        ({"inputs": []}, "non-empty list"),
        ({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP99", "data": [1]}]}, "FP99"),
        ({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1]}]}, "needs 6"),
        ({"inputs": [{"name": "x", "shape": "1", "datatype": "FP64", "data": [1]}]}, "shape"),
        ({"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}, "needs a name"),
        ({"inputs": [{"name": "x", "shape": [1], "datatype": "INT64", "data": [1.5]}]}, "INT64"),
        ({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64"}]}, "no data"),
        ({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}, "2"),
    ],
)
def test_malformed_v2_requests_get_400(
    client: TestClient, request_body: dict[str, object], names: str
) -> None:
    response = client.post("/v2/models/fraud/infer", json=request_body)
    assert response.status_code == 400, response.text
    assert names in response.json()["error"]


def test_unknown_model_and_version_get_404(client: TestClient) -> None:
    request_body = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1] * 3}]}
    unknown = client.post("/v2/models/other/infer", json=request_body)
    assert unknown.status_code == 404
    assert "no model named 'other'" in unknown.json()["error"]
    assert client.get("/v2/models/other").status_code == 404
    version = client.post("/v2/models/fraud/versions/7/infer", json=request_body)
    assert version.status_code == 404
    assert "version '7' is not served here" in version.json()["error"]


def test_columns_named_in_v2_metadata(tmp_path: Path) -> None:
    with serving(ServingSettings(str(column_model(tmp_path / "m")), model_name="m")) as client:
        inputs = client.get("/v2/models/m").json()["inputs"]
    assert [i["name"] for i in inputs] == COLUMNS
    assert {i["datatype"] for i in inputs} == {"FP64"}
