"""The prediction log: Parquet by endpoint and hour, sampled, queryable with DuckDB,
and never failing a request."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import duckdb
import pytest

from heron.serving import ServingSettings
from serving_helpers import scaled_sum_model, serving


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scaled_sum_model(tmp_path_factory.mktemp("model") / "fraud")


def query(root: Path, sql: str) -> list[tuple[object, ...]]:
    source = f"read_parquet('{root}/**/*.parquet', hive_partitioning = 1)"
    return duckdb.sql(sql.replace("LOG", source)).fetchall()


def test_predictions_are_logged_and_duckdb_reads_them(model: Path, tmp_path: Path) -> None:
    root = tmp_path / "log"
    settings = ServingSettings(str(model), prediction_log=str(root))
    with serving(settings) as client:
        first = client.post(
            "/invocations", json={"inputs": [[1, 2, 3]]}, headers={"x-request-id": "req-1"}
        )
        assert first.headers["x-request-id"] == "req-1"
        for i in range(9):
            response = client.post("/invocations", json={"inputs": [[i, 0, 0]]})
            assert len(response.headers["x-request-id"]) == 32
        client.post(
            "/v2/models/fraud/infer",
            json={"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1] * 3}]},
        )
    # Shutdown flushed the log.
    [partition] = list(root.iterdir())
    assert partition.name == "endpoint=fraud"
    [hour] = list(partition.iterdir())
    assert re.fullmatch(r"hour=\d{4}-\d\d-\d\dT\d\d", hour.name)
    rows = query(root, "SELECT endpoint, version, protocol, status, count(*) FROM LOG GROUP BY ALL")
    assert sorted(rows) == [("fraud", "1", "mlflow", 200, 10), ("fraud", "1", "v2", 200, 1)]
    [(inputs, outputs, latency)] = query(
        root, "SELECT inputs, outputs, latency_ms FROM LOG WHERE request_id = 'req-1'"
    )
    assert json.loads(str(inputs)) == {"inputs": [[1, 2, 3]]}
    assert json.loads(str(outputs)) == {"predictions": [6.0]}
    assert 0 < float(str(latency)) < 10_000


def test_sampling_logs_about_the_rate(model: Path, tmp_path: Path) -> None:
    root = tmp_path / "log"
    settings = ServingSettings(str(model), prediction_log=str(root), log_sample_rate=0.25)
    requests = 400
    with serving(settings) as client:
        for _ in range(requests):
            assert client.post("/invocations", json={"inputs": [[1, 1, 1]]}).status_code == 200
    [(logged,)] = query(root, "SELECT count(*) FROM LOG")
    sigma = math.sqrt(requests * 0.25 * 0.75)
    assert abs(int(str(logged)) - requests * 0.25) < 5 * sigma


def test_an_unwritable_log_raises_the_alert_metric_not_a_500(model: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be")
    settings = ServingSettings(str(model), prediction_log=str(blocked))
    with serving(settings) as client:
        responses = [client.post("/invocations", json={"inputs": [[1, 1, 1]]}) for _ in range(5)]
        assert {r.status_code for r in responses} == {200}
        app = client.app
        log = app.state.serving.prediction_log  # type: ignore[attr-defined]
    # Closing flushed; the write failed and was counted, the requests never saw it.
    assert log is not None
    metrics = app.state.serving.metrics.render().decode()  # type: ignore[attr-defined]
    assert 'heron_serving_prediction_log_failures_total{reason="write_failed"} 5.0' in metrics
    assert blocked.read_text().startswith("a file")


def test_failed_requests_are_logged_with_status_and_error(model: Path, tmp_path: Path) -> None:
    root = tmp_path / "log"
    settings = ServingSettings(str(model), prediction_log=str(root))
    with serving(settings) as client:
        bad_json = client.post(
            "/invocations", content=b"{not json", headers={"x-request-id": "bad-json"}
        )
        assert bad_json.status_code == 400
        assert bad_json.headers["x-request-id"] == "bad-json"
        unknown_param = client.post(
            "/invocations", json={"inputs": [[1, 2, 3]], "params": {"colour": "red"}}
        )
        assert unknown_param.status_code == 400
        wrong_shape = client.post(
            "/v2/models/fraud/infer",
            json={"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]},
        )
        assert wrong_shape.status_code == 400
        assert client.post("/invocations", json={"inputs": [[1, 1, 1]]}).status_code == 200
    rows = query(
        root,
        "SELECT request_id, protocol, status, version, outputs IS NULL, error FROM LOG",
    )
    assert sorted((r[1], r[2], r[4]) for r in rows) == [
        ("mlflow", 200, False),
        ("mlflow", 400, True),
        ("mlflow", 400, True),
        ("v2", 400, True),
    ]
    errors = {str(r[0]): r[5] for r in rows}
    assert "not valid JSON" in str(errors["bad-json"])
    assert {r[3] for r in rows} == {"1"}
    messages = [str(r[5]) for r in rows if r[2] == 400]
    assert any("colour" in m for m in messages), messages
    assert any("shape" in m for m in messages), messages
    assert [r[5] for r in rows if r[2] == 200] == [None]
