"""REST routes the web UI's views rely on: experiment run counts, Parquet table previews
and model manifest views. In-process app, no browser."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sqlalchemy import event
from tests.registry_helpers import write_model_folder

import heron
from asgi import TestClient
from heron.client.http_transport import HttpTransport
from heron.entities import Metric, Param
from heron.entities.series import SeriesPage
from heron.errors import NotFound
from heron.server import ServerSettings, create_app
from heron.server.responses import ServerState
from heron.services import TrackingService
from heron.services.artifact_previews import MAX_PREVIEW_ROWS
from heron.services.downsample import DownsampleCache, minmax_indices
from heron.services.tracking import MAX_STATS_EXPERIMENTS
from heron.store import SqlTrackingStore
from heron.store.sqlite_columns import SqliteColumnReader

API = "/api/v1"


def test_experiment_stats_count_runs_in_one_query(
    service: TrackingService, store: SqlTrackingStore
) -> None:
    busy = service.create_experiment("busy")
    idle = service.create_experiment("idle")
    runs = [service.create_run(busy.id, start_time=1_000 + i) for i in range(3)]
    service.end_run(runs[0].id)
    service.delete_run(runs[1].id)
    other = service.create_experiment("other")
    service.create_run(other.id)

    statements: list[str] = []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            statements.append(args[2])

    event.listen(store.engines.reader, "before_cursor_execute", count)
    try:
        stats = service.experiment_stats([idle.id, busy.id, "424242", "not-an-id", busy.id])
    finally:
        event.remove(store.engines.reader, "before_cursor_execute", count)
    assert len(statements) == 1
    by_id = {s.experiment_id: s for s in stats}
    assert set(by_id) == {busy.id, idle.id}  # unknown ids are left out, repeats merged
    assert (by_id[busy.id].active_runs, by_id[busy.id].deleted_runs) == (2, 1)
    assert (by_id[idle.id].active_runs, by_id[idle.id].deleted_runs) == (0, 0)
    ended = service.get_run(runs[0].id).end_time
    assert ended is not None
    # The latest run event (here the end of run 0) or the experiment's own update.
    assert by_id[busy.id].last_activity == max(
        ended, service.get_experiment(busy.id).last_update_time
    )
    assert by_id[idle.id].last_activity == service.get_experiment(idle.id).last_update_time


def _sampling_paths(service: TrackingService) -> Iterator[str]:
    """Each way the store can read a series for sampling: the cursor's; and on SQLite,
    the helper processes a server starts (heron.store.sqlite_columns)."""
    yield "cursor"
    if service.store.dialect == "sqlite":
        service.store.start_column_readers()
        yield "helper processes"


def test_downsampled_history_equals_choosing_from_the_full_history(
    service: TrackingService,
) -> None:
    """The sampling read (values first, chosen points by id) returns exactly the points
    that the same choice picks out of the paged full history, on each backend: points
    logged out of step order, repeated steps, NaN and infinities, and more chosen points
    than one id lookup holds."""
    run = service.create_run(service.create_experiment("sampled").id)
    count = 3_000
    order = [*range(1_500, count), *range(1_500)]  # the second half logged first
    values = [math.sin(step / 40) for step in range(count)]
    values[100:120] = [math.nan] * 20  # a bucket of NaN alone keeps a NaN point
    values[2_000], values[2_500] = math.inf, -math.inf
    service.log_batch(run.id, metrics=[Metric("m", values[s], 1_000 + s, s) for s in order[:1_000]])
    service.log_batch(run.id, metrics=[Metric("m", values[s], 1_000 + s, s) for s in order[1_000:]])
    service.log_batch(run.id, metrics=[Metric("m", 7.0, 1, 5)])  # step 5 again, earlier time

    full = service.get_metric_history(run.id, "m", max_results=50_000).items
    chosen = minmax_indices(np.array([p.value for p in full], np.float64), 1_400)
    assert len(chosen) > 1_000
    expected = [full[i] for i in chosen]
    for _path in _sampling_paths(service):
        sampled = service.store.sample_metric_history(
            run.id, "m", lambda values: minmax_indices(values, 1_400)
        ).metrics()
        assert [(p.step, p.timestamp) for p in sampled] == [(p.step, p.timestamp) for p in expected]
        assert [repr(p.value) for p in sampled] == [repr(p.value) for p in expected]
        assert any(math.isnan(p.value) for p in sampled)
        assert math.inf in [p.value for p in sampled]
    assert service.get_metric_history_downsampled(run.id, "never", 10) == []
    with pytest.raises(NotFound):
        service.get_metric_history_downsampled("0" * 32, "m", 10)


def test_downsampling_a_series_that_starts_with_thousands_of_nan(
    service: TrackingService,
) -> None:
    """SQLite's column reader infers a column's type from its first rows: a series whose
    first few thousand points are NaN (stored as NULL) must still read as numbers."""
    run = service.create_run(service.create_experiment("nan-first").id)
    values = [math.nan] * 3_000 + [float(s) for s in range(2_000)] + [1e308, -math.inf]
    service.log_batch(run.id, metrics=[Metric("m", v, 1, s) for s, v in enumerate(values)])

    chosen = minmax_indices(np.array(values, np.float64), 100)
    for _path in _sampling_paths(service):
        sampled = service.store.sample_metric_history(
            run.id, "m", lambda values: minmax_indices(values, 100)
        ).metrics()
        assert [p.step for p in sampled] == chosen
        assert [repr(p.value) for p in sampled] == [repr(values[i]) for i in chosen]
        assert {1e308, -math.inf} <= {p.value for p in sampled}


def test_downsampling_goes_on_after_a_reader_process_is_killed(tmp_path: Path) -> None:
    """SQLite's long scans run in helper processes (heron.store.sqlite_columns); one
    killed (say by the out-of-memory killer) is replaced on the next read."""
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'heron.db'}")
    try:
        service = TrackingService(store, str(tmp_path / "artifacts"))
        run = service.create_run(service.create_experiment("killed").id)
        service.log_batch(run.id, metrics=[Metric("m", float(s % 5), 1, s) for s in range(300)])
        store.start_column_readers()
        assert len(service.get_metric_history_downsampled(run.id, "m", 50)) > 2
        reader = store._columns
        assert reader is not None
        for helper in reader._idle:
            helper.process.kill()
        service.log_metric(run.id, "m", 9.0, step=300)
        again = service.get_metric_history_downsampled(run.id, "m", 50)
        full = service.get_metric_history(run.id, "m", max_results=1_000).items
        chosen = minmax_indices(np.array([p.value for p in full], np.float64), 50)
        assert again == [full[i] for i in chosen]
        assert again[-1].value == 9.0
    finally:
        store.close()


def test_column_reader_reports_a_failed_statement_and_goes_on(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'heron.db'}")
    reader = SqliteColumnReader(str(tmp_path / "heron.db"))
    try:
        with pytest.raises(RuntimeError, match="no such table: nowhere"):
            reader.read("SELECT x FROM nowhere", ())
        number, text = reader.read("SELECT count(*), ? FROM runs", ("a",))
        assert number.tolist() == [0]
        assert text.tolist() == ["a"]
    finally:
        reader.close()
        store.close()


def test_downsampled_history_is_reused_until_the_series_grows(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("cached").id)
    service.log_batch(run.id, metrics=[Metric("m", float(s % 7), 1_000, s) for s in range(500)])
    first = service.get_metric_history_downsampled(run.id, "m", 100)
    assert service.store.count_metric_points(run.id, "m") == 500
    assert service.downsampled.get(run.id, "m", 100, 500) == first
    assert service.get_metric_history_downsampled(run.id, "m", 100) == first
    assert service.downsampled.get(run.id, "m", 50, 500) is None  # per max_points

    service.log_metric(run.id, "m", 99.0, step=250)  # out of step order, mid-series
    grown = service.get_metric_history_downsampled(run.id, "m", 100)
    assert 99.0 not in [p.value for p in first]
    assert 99.0 in [p.value for p in grown]  # a spike always survives downsampling
    assert service.store.count_metric_points(run.id, "m") == 501
    assert service.store.count_metric_points(run.id, "never") == 0
    with pytest.raises(NotFound):
        service.store.count_metric_points("0" * 32, "m")


def test_downsample_cache_evicts_the_least_recently_used() -> None:
    cache = DownsampleCache(max_points=300)
    steps = list(range(75))
    page = SeriesPage("m", steps, [0] * 75, [1.0] * 75)
    for name in ("a", "b", "c", "d"):
        cache.put(name, "m", 10, 75, page)  # 4 x 75 points: full
    assert cache.get("a", "m", 10, 75) == page.metrics()  # a is now the most recent
    cache.put("e", "m", 10, 75, page)
    assert cache.get("b", "m", 10, 75) is None
    assert cache.get("a", "m", 10, 75) is not None
    assert cache.get("c", "m", 10, 75) is not None
    assert cache.get("a", "m", 10, 76) is None  # grown since
    huge = SeriesPage("m", [*steps, 75], [0] * 76, [1.0] * 76)
    cache.put("huge", "m", 10, 76, huge)  # over a quarter of the budget: not kept
    assert cache.get("huge", "m", 10, 76) is None


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[TestClient, TrackingService]]:
    settings = ServerSettings(f"sqlite:///{tmp_path / 'heron.db'}", str(tmp_path / "artifacts"))
    app = create_app(settings)
    with TestClient(app) as client:
        state: ServerState = app.state.heron
        yield client, state.service


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    message: str = error["message"]
    return message


def test_experiment_stats_route(app_client: tuple[TestClient, TrackingService]) -> None:
    client, service = app_client
    experiment = service.create_experiment("fraud")
    run = service.create_run(experiment.id)
    service.log_batch(run.id, params=[Param("lr", "0.1")])
    answer = _ok(client.get(f"{API}/experiment-stats", params={"experiment_id": [experiment.id]}))
    assert answer["stats"] == [
        {
            "experiment_id": experiment.id,
            "active_runs": 1,
            "deleted_runs": 0,
            "last_activity": max(run.start_time, experiment.last_update_time),
        }
    ]
    too_many = [str(i) for i in range(MAX_STATS_EXPERIMENTS + 1)]
    message = _error(
        client.get(f"{API}/experiment-stats", params={"experiment_id": too_many}),
        400,
        "INVALID_ARGUMENT",
    )
    assert "at most" in message
    _error(client.get(f"{API}/experiment-stats"), 400, "INVALID_ARGUMENT")


def _run_with(service: TrackingService, folder: Path, *files: Path | str) -> str:
    experiment = service.get_or_create_experiment("previews")
    run = service.create_run(experiment.id)
    for entry in files:
        path = Path(entry)
        service.log_artifact(run.id, path, path.name if path.is_dir() else None)
    return run.id


def test_parquet_preview_reads_only_the_first_row_group(
    app_client: tuple[TestClient, TrackingService], tmp_path: Path
) -> None:
    client, service = app_client
    table = pa.table(
        {
            "id": pa.array(range(3000), pa.int64()),
            "score": pa.array([float("nan"), float("inf")] + [0.5] * 2998, pa.float64()),
            "at": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5)] * 3000, pa.timestamp("ms")),
            "blob": pa.array([b"\x00\x01"] * 3000, pa.binary()),
            "tags": pa.array([["a", "b"]] * 3000, pa.list_(pa.string())),
            "note": pa.array(["<b>bold</b>" + "x" * 2000] * 3000, pa.string()),
        }
    )
    path = tmp_path / "scores.parquet"
    pq.write_table(table, path, row_group_size=1000, compression="NONE")
    # Break the data of the last row group (the footer stays intact): a reader that
    # reads past the first row group fails, so the preview must not.
    metadata = pq.ParquetFile(path).metadata
    last = metadata.row_group(2).column(0)
    data = bytearray(path.read_bytes())
    start = last.dictionary_page_offset if last.has_dictionary_page else last.data_page_offset
    data[start : start + last.total_compressed_size] = b"\xff" * last.total_compressed_size
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match="page header"):
        pq.read_table(path)
    run_id = _run_with(service, tmp_path, path)

    preview = _ok(
        client.get(
            f"{API}/runs/{run_id}/artifacts/table-preview",
            params={"path": "scores.parquet", "rows": 3},
        )
    )
    assert [c["name"] for c in preview["columns"]] == ["id", "score", "at", "blob", "tags", "note"]
    assert preview["columns"][2]["type"] == "timestamp[ms]"
    assert (preview["total_rows"], preview["total_columns"]) == (3000, 6)
    assert len(preview["rows"]) == 3
    first = preview["rows"][0]
    assert first[:5] == [0, "NaN", "2026-01-02T03:04:05", "<2 bytes>", '["a","b"]']
    assert preview["rows"][1][1] == "Infinity"
    assert first[5].startswith("<b>bold</b>xx")  # as text
    assert len(first[5]) == 500  # cut


def test_parquet_preview_refusals(
    app_client: tuple[TestClient, TrackingService], tmp_path: Path
) -> None:
    client, service = app_client
    text = tmp_path / "notes.txt"
    text.write_text("not parquet")
    run_id = _run_with(service, tmp_path, text)
    route = f"{API}/runs/{run_id}/artifacts/table-preview"
    message = _error(client.get(route, params={"path": "notes.txt"}), 400, "INVALID_ARGUMENT")
    assert "not a readable Parquet file" in message
    _error(client.get(route, params={"path": "missing.parquet"}), 404, "NOT_FOUND")
    _error(client.get(route, params={"path": "../x.parquet"}), 400, "INVALID_ARGUMENT")
    too_many = {"path": "notes.txt", "rows": MAX_PREVIEW_ROWS + 1}
    _error(client.get(route, params=too_many), 400, "INVALID_ARGUMENT")


def test_model_manifest_of_a_heron_model(
    app_client: tuple[TestClient, TrackingService], tmp_path: Path
) -> None:
    client, service = app_client
    run_id = _run_with(service, tmp_path, write_model_folder(tmp_path / "model"))
    view = _ok(
        client.get(f"{API}/runs/{run_id}/artifacts/model-manifest", params={"path": "model"})
    )
    assert view["format"] == "heron"
    assert view["manifest_path"] == "model/heron-model.yaml"
    assert [f["name"] for f in view["flavors"]] == ["python_function"]
    assert view["signature"]["inputs"] == [
        {"name": "age", "type": "long", "detail": ""},
        {"name": "income", "type": "double", "detail": ""},
    ]
    assert view["signature"]["outputs"] == [{"name": "score", "type": "double", "detail": ""}]


def test_model_manifest_of_an_mlflow_model(
    app_client: tuple[TestClient, TrackingService], tmp_path: Path
) -> None:
    client, service = app_client
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    inputs = [
        {"type": "double", "name": "x", "required": True},
        {"type": "string", "name": "c", "required": False},
    ]
    outputs = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "python_version": "3.11.4"},
            "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "1.5.0"},
        },
        "signature": {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs), "params": None},
        "utc_time_created": "2026-01-02 03:04:05.000000",
        "mlflow_version": "2.20.0",
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "requirements.txt").write_text("# pinned\nmlflow==2.20.0\nscikit-learn==1.5.0\n")
    run_id = _run_with(service, tmp_path, folder)
    route = f"{API}/runs/{run_id}/artifacts/model-manifest"
    view = _ok(client.get(route, params={"path": "mlflow-model"}))
    assert view["format"] == "mlflow"
    assert [f["name"] for f in view["flavors"]] == ["python_function", "sklearn"]
    assert view["signature"]["inputs"] == [
        {"name": "x", "type": "double", "detail": ""},
        {"name": "c", "type": "string", "detail": "optional"},
    ]
    assert view["signature"]["outputs"] == [
        {"name": "0", "type": "float32", "detail": "shape [-1, 2]"}
    ]
    assert view["environment"] == {
        "python": "3.11.4",
        "requirements": ["mlflow==2.20.0", "scikit-learn==1.5.0"],
    }
    assert view["created_at"].startswith("2026-01-02")
    # The run's root holds no manifest of its own.
    message = _error(client.get(route), 404, "NOT_FOUND")
    assert "MLmodel" in message


@pytest.mark.parametrize("transport", ["local", "http"])
def test_client_experiment_stats(transport: str, tmp_path: Path) -> None:
    store_uri = f"sqlite:///{tmp_path / 'heron.db'}"
    settings = ServerSettings(store_uri, str(tmp_path / "artifacts"))
    with contextlib.ExitStack() as stack:
        if transport == "local":
            client = stack.enter_context(heron.Client(store_uri))
        else:
            http = stack.enter_context(TestClient(create_app(settings), base_url="http://t"))
            remote = HttpTransport("http://t", http_client=http, backoff=0.01)
            client = stack.enter_context(heron.Client(transport=remote))
        first = client.create_experiment("first")
        second = client.create_experiment("second")
        for _ in range(2):
            client.create_run(second.id)
        stats = client.experiment_stats([second.id, first.id, "999"])
        assert [(s.experiment_id, s.active_runs, s.deleted_runs) for s in stats] == [
            (first.id, 0, 0),
            (second.id, 2, 0),
        ]
