"""The Client behaves the same embedded and against a Heron server (same API, same errors)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from asgi import TestClient
from heron.client.http_transport import HttpTransport
from heron.entities import Metric, RunStatus
from heron.errors import AlreadyExists, InvalidArgument, NotFound, SearchSyntaxError
from heron.server.app import create_app
from heron.server.settings import ServerSettings


@pytest.fixture(params=["local", "http"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[heron.Client]:
    store_uri = f"sqlite:///{tmp_path / 'heron.db'}"
    if request.param == "local":
        with heron.Client(store_uri) as local:
            yield local
        return
    settings = ServerSettings(
        backend_store_uri=store_uri, default_artifact_root=str(tmp_path / "artifacts")
    )
    with TestClient(create_app(settings), base_url="http://heron.test") as http:
        transport = HttpTransport("http://heron.test", http_client=http, backoff=0.01)
        with heron.Client(transport=transport) as remote:
            yield remote


def test_experiments_round_trip(client: heron.Client) -> None:
    created = client.create_experiment("fraud", tags={"team": "risk"})
    assert client.get_experiment(created.id) == created
    assert client.get_experiment_by_name("fraud") == created
    assert client.get_experiment_by_name("nope") is None
    with pytest.raises(AlreadyExists):
        client.create_experiment("fraud")
    client.rename_experiment(created.id, "fraud-2")
    client.set_experiment_tag(created.id, "owner", "ana")
    client.delete_experiment(created.id)
    assert [e.name for e in client.search_experiments(view="deleted")] == ["fraud-2"]
    client.restore_experiment(created.id)
    assert client.get_experiment(created.id).tags == {"team": "risk", "owner": "ana"}
    with pytest.raises(NotFound):
        client.get_experiment("999")


def test_runs_metrics_params_tags(client: heron.Client) -> None:
    experiment = client.create_experiment("runs").id
    run = client.create_run(experiment, run_name="r", tags={"a": "1"})
    assert run.status is RunStatus.RUNNING
    client.log_metric(run.id, "train/loss", 0.5, step=1)
    client.log_metric(run.id, "nan", math.nan)
    client.log_metric(run.id, "inf", math.inf)
    client.log_batch(
        run.id, metrics=[Metric("auc", 0.9, 1000, 0)], params={"C": 0.5}, tags={"b": "2"}
    )
    with pytest.raises(InvalidArgument, match="immutable"):
        client.log_param(run.id, "C", 1.0)
    client.delete_tag(run.id, "a")
    client.set_terminated(run.id, "FAILED")
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FAILED
    assert stored.params == {"C": "0.5"}
    assert stored.tags == {"b": "2"}
    assert stored.metrics["train/loss"] == 0.5
    assert math.isnan(stored.metrics["nan"])
    assert stored.metrics["inf"] == math.inf
    assert [m.value for m in client.get_metric_history(run.id, "train/loss")] == [0.5]
    client.delete_run(run.id)
    with pytest.raises(InvalidArgument, match="deleted"):
        client.log_metric(run.id, "x", 1.0)
    client.restore_run(run.id)
    with pytest.raises(NotFound):
        client.get_run("0" * 32)


def test_search_and_paging(client: heron.Client) -> None:
    experiment = client.create_experiment("search").id
    for i in range(7):
        run = client.create_run(experiment, run_name=f"r{i}")
        client.log_batch(run.id, metrics=[Metric("auc", i / 10, 1, 0)], params={"i": i})
    top = client.search_runs(experiment, "metrics.auc > 0.3", ["metrics.auc DESC"], max_results=2)
    assert [r.name for r in top] == ["r6", "r5"]
    assert top.next_page_token is not None
    names = [
        r.name for r in client.iter_runs(experiment, "params.i >= 2", "metrics.auc", page_size=2)
    ]
    assert names == ["r2", "r3", "r4", "r5", "r6"]
    with pytest.raises(SearchSyntaxError) as error:
        client.search_runs(experiment, "metrics.auc > 0.3 AND AND")
    assert error.value.position == 22


def test_inputs_and_artifacts(client: heron.Client, tmp_path: Path) -> None:
    import pandas as pd

    run = client.create_run(client.create_experiment("art").id)
    client.log_input(run.id, pd.DataFrame({"a": [1, 2]}), context="training", name="tiny")
    assert client.get_run(run.id).inputs[0].dataset.name == "tiny"
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("bb")
    client.log_artifacts(run.id, folder, "plots")
    client.log_dict(run.id, {"x": 1}, "meta.json")
    assert [f.path for f in client.list_artifacts(run.id)] == ["meta.json", "plots"]
    assert [f.path for f in client.list_artifacts(run.id, "plots")] == ["plots/a.txt", "plots/sub"]
    out = client.download_artifacts(run.id, "plots", tmp_path / "out")
    assert (out / "sub" / "b.txt").read_text() == "bb"
    single = client.download_artifacts(run.id, "meta.json", tmp_path / "out2")
    assert single.read_text().strip().startswith("{")
    with pytest.raises(InvalidArgument):
        client.log_artifact(run.id, folder / "a.txt", "../escape")
    with pytest.raises(NotFound):
        client.download_artifacts(run.id, "missing.txt", tmp_path / "out3")


def test_downsampled_history(client: heron.Client) -> None:
    run = client.create_run(client.create_experiment("charts").id)
    values = [float((i * 37) % 101) for i in range(5000)]
    values[1234] = 1000.0  # a spike the chart must show
    client.log_batch(run.id, metrics=[Metric("loss", v, 1, i) for i, v in enumerate(values)])
    points = client.get_metric_history(run.id, "loss", max_points=100)
    assert len(points) <= 100
    assert points[0].step == 0
    assert points[-1].step == 4999
    assert max(p.value for p in points) == 1000.0
    assert [p.step for p in points] == sorted(p.step for p in points)
    with pytest.raises(InvalidArgument, match="max_points"):
        client.get_metric_history(run.id, "loss", max_points=1)


def test_a_batch_resent_with_its_request_id_is_stored_once(client: heron.Client) -> None:
    run = client.create_run(client.create_experiment("idempotent").id)
    batch = [Metric("loss", float(i), 1, i) for i in range(10)]
    client.log_batch(run.id, metrics=batch, request_id="batch-1")
    client.log_batch(run.id, metrics=batch, request_id="batch-1")  # a retry or a replay
    client.log_batch(run.id, metrics=batch[:2], request_id="batch-2")
    assert len(client.get_metric_history(run.id, "loss")) == 12
    with pytest.raises(InvalidArgument):
        client.log_batch(run.id, metrics=batch, request_id="x" * 65)


def test_artifact_checksums_are_recorded_and_verified(client: heron.Client, tmp_path: Path) -> None:
    import hashlib

    from heron.errors import DataCorrupted

    run = client.create_run(client.create_experiment("checksums").id)
    payload = b"weights" * 1000
    (tmp_path / "model.bin").write_bytes(payload)
    client.log_artifact(run.id, tmp_path / "model.bin", "models")
    (listed,) = client.list_artifacts(run.id, "models")
    assert listed.sha256 == hashlib.sha256(payload).hexdigest()
    good = client.download_artifacts(run.id, "models/model.bin", tmp_path / "ok")
    assert good.read_bytes() == payload

    stored = Path(client.get_run(run.id).artifact_uri) / "models" / "model.bin"
    stored.write_bytes(b"tampered" + payload[8:])  # same size, different bytes
    with pytest.raises(DataCorrupted, match="checksum"):
        client.download_artifacts(run.id, "models/model.bin", tmp_path / "bad")
    with pytest.raises(DataCorrupted):
        client.download_artifacts(run.id, "models", tmp_path / "bad-folder")
    assert not (tmp_path / "bad" / "model.bin").exists()


def test_a_deleted_experiment_is_not_reused_by_name(client: heron.Client) -> None:
    experiment = client.create_experiment("gone")
    client.delete_experiment(experiment.id)
    with pytest.raises(InvalidArgument, match="restore"):
        client.get_or_create_experiment("gone")
