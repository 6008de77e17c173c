"""Metric history over HTTP: pages with tokens, and server-side downsampling for charts."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heron.server import ServerSettings, create_app
from heron.services.downsample import minmax_indices

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


@pytest.fixture
def run_id(client: TestClient) -> str:
    eid = client.post(f"{API}/experiments", json={"name": "e"}).json()["id"]
    rid: str = client.post(f"{API}/runs", json={"experiment_id": eid}).json()["id"]
    return rid


def _log(client: TestClient, run_id: str, key: str, values: list[Any], first_step: int = 0) -> None:
    points = [
        {"key": key, "value": v, "timestamp": 1_000 + i, "step": first_step + i}
        for i, v in enumerate(values)
    ]
    for start in range(0, len(points), 10_000):
        batch = {"metrics": points[start : start + 10_000]}
        response = client.post(f"{API}/runs/{run_id}/batch", json=batch)
        assert response.status_code == 204, response.text


def _history(client: TestClient, run_id: str, key: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/runs/{run_id}/metrics/{key}/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_history_pages_with_tokens(client: TestClient, run_id: str) -> None:
    _log(client, run_id, "train/loss", [float(i) for i in range(250)])
    steps: list[int] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"max_results": 100}
        if token:
            params["page_token"] = token
        page = _history(client, run_id, "train%2Floss", **params)
        steps += [p["step"] for p in page["metrics"]]
        pages += 1
        token = page["next_page_token"]
        if token is None:
            break
    assert pages == 3
    assert steps == list(range(250))
    # The key may also travel with a literal '/'.
    assert len(_history(client, run_id, "train/loss")["metrics"]) == 250


def test_history_of_unknown_run_or_key(client: TestClient, run_id: str) -> None:
    missing = client.get(f"{API}/runs/nope/metrics/m/history")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert _history(client, run_id, "never-logged") == {"metrics": [], "next_page_token": None}


def test_downsampled_history_keeps_first_last_and_extremes(client: TestClient, run_id: str) -> None:
    count = 100_000
    values = [math.sin(i / 500) for i in range(count)]
    values[31_337] = -50.0  # a dip and a spike that any chart must show
    values[77_777] = 80.0
    _log(client, run_id, "loss", values)

    body = _history(client, run_id, "loss", max_points=1000)
    points = body["metrics"]
    assert body["next_page_token"] is None
    assert 500 < len(points) <= 1000
    assert points[0]["step"] == 0
    assert points[-1]["step"] == count - 1
    kept = {p["step"]: p["value"] for p in points}
    assert kept[31_337] == -50.0
    assert kept[77_777] == 80.0
    steps = [p["step"] for p in points]
    assert steps == sorted(steps)

    short = _history(client, run_id, "loss", max_points=2)["metrics"]
    assert [p["step"] for p in short] == [0, count - 1]


def test_downsampling_a_short_series_returns_it_whole(client: TestClient, run_id: str) -> None:
    _log(client, run_id, "acc", [0.1, "NaN", 0.3])
    points = _history(client, run_id, "acc", max_points=10)["metrics"]
    assert [p["value"] for p in points] == [0.1, "NaN", 0.3]


def test_downsampling_rejects_bad_requests(client: TestClient, run_id: str) -> None:
    for query in ("max_points=1", "max_points=0", "max_points=abc", "max_points=10&page_token=x"):
        response = client.get(f"{API}/runs/{run_id}/metrics/m/history?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "INVALID_ARGUMENT"


def test_minmax_indices_ignores_nan_unless_a_bucket_is_all_nan() -> None:
    values = np.array([0.0, np.nan, 5.0, np.nan, -3.0, 1.0] + [np.nan] * 6 + [2.0])
    kept = minmax_indices(values, 6)  # two buckets of two points each
    assert kept[0] == 0
    assert kept[-1] == len(values) - 1
    assert len(kept) <= 6
    assert 2 in kept  # the maximum
    assert 4 in kept  # the minimum
    assert kept == sorted(kept)
    all_nan_bucket = minmax_indices(values, 10)
    assert any(math.isnan(values[i]) for i in all_nan_bucket[1:-1])
    assert minmax_indices(np.arange(5, dtype=np.float64), 5) == [0, 1, 2, 3, 4]


def _minmax_by_bucket_loop(values: np.ndarray, max_points: int) -> list[int]:
    """The plain definition, one bucket at a time (what minmax_indices computes at once)."""
    count = len(values)
    if count <= max_points:
        return list(range(count))
    buckets = (max_points - 2) // 2
    if buckets == 0:
        return [0, count - 1]
    lows = np.where(np.isnan(values), np.inf, values)
    highs = np.where(np.isnan(values), -np.inf, values)
    edges = np.linspace(1, count - 1, buckets + 1).astype(np.int64).tolist()
    keep = [0]
    for start, stop in itertools.pairwise(edges):
        low = start + int(np.argmin(lows[start:stop]))
        high = start + int(np.argmax(highs[start:stop]))
        keep.extend(sorted({low, high}))
    return [*keep, count - 1]


def test_minmax_indices_equals_the_bucket_by_bucket_definition() -> None:
    """Ties (first occurrence wins), NaN runs, infinities, -0.0 beside 0.0, flat buckets."""
    rng = np.random.default_rng(7)
    for trial in range(300):
        count = int(rng.integers(3, 5_000))
        kind = trial % 4
        if kind == 0:
            values = rng.normal(size=count)
        elif kind == 1:
            values = rng.integers(-2, 3, size=count).astype(np.float64)  # many ties
        elif kind == 2:
            values = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], size=count)
        else:
            values = np.full(count, 3.0)
            values[rng.integers(0, count, size=count // 3)] = np.nan
        max_points = int(rng.integers(2, 600))
        assert minmax_indices(values, max_points) == _minmax_by_bucket_loop(values, max_points)
