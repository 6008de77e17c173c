"""Adaptive micro-batching: concurrent requests share predict calls, each keeps its params."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from asgi import TestClient
from heron.models import load
from heron.serving import BatchingSettings, ServingSettings, batching
from heron.serving.batching import merge, merge_key, split
from heron.serving.payloads import ScoringInput
from serving_helpers import SlowModel, scaled_sum_model, serving


def predict_calls(client: TestClient) -> tuple[int, float]:
    """(predict calls, rows scored) from the batch-size histogram."""
    text = client.get("/metrics").text
    count = re.search(r'heron_serving_batch_rows_count\{version="1"\} ([\d.]+)', text)
    total = re.search(r'heron_serving_batch_rows_sum\{version="1"\} ([\d.]+)', text)
    assert count, text
    assert total, text
    return int(float(count.group(1))), float(total.group(1))


def concurrently(client: TestClient, payloads: list[dict[str, Any]]) -> list[Any]:
    with ThreadPoolExecutor(len(payloads)) as pool:
        return list(pool.map(lambda p: client.post("/invocations", json=p), payloads))


@pytest.fixture
def slow_loader(tmp_path: Path) -> Any:
    model = load(scaled_sum_model(tmp_path / "m"))
    return lambda _uri: SlowModel(model, delay=0.05)


def test_concurrent_requests_merge_and_keep_their_own_params(slow_loader: Any) -> None:
    batching = BatchingSettings(max_batch_size=64, max_latency_ms=20)
    settings = ServingSettings("m", batching=batching)
    payloads = [
        {"inputs": [[i, 0, 0], [0, i, 1]], "params": {"scale": 1 + i % 2}} for i in range(16)
    ]
    with serving(settings, slow_loader) as client:
        before, _ = predict_calls(client)
        responses = concurrently(client, payloads)
        calls, rows = predict_calls(client)
    for i, response in enumerate(responses):
        assert response.status_code == 200, response.text
        scale = 1 + i % 2
        assert response.json() == {"predictions": [i * scale, (i + 1) * scale]}
    assert rows == 32
    # 16 requests, two params groups: far fewer calls than requests once they queue up.
    assert calls - before < 16


def test_one_bad_request_does_not_fail_its_batch(slow_loader: Any) -> None:
    settings = ServingSettings("m", batching=BatchingSettings(max_batch_size=64))
    good = {"inputs": [[1, 2, 3]]}
    # Valid JSON and shape, but the model's float conversion fails on a string cell.
    bad = {"dataframe_split": {"data": [["x", 2, 3]]}}
    with serving(settings, slow_loader) as client:
        responses = concurrently(client, [good, bad, good, good, bad, good])
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 400, 200, 200, 400, 200]
    assert responses[0].json() == {"predictions": [6.0]}


def test_batching_is_off_by_default_one_call_per_request(slow_loader: Any) -> None:
    with serving(ServingSettings("m"), slow_loader) as client:
        concurrently(client, [{"inputs": [[1, 1, 1]]}] * 6)
        calls, rows = predict_calls(client)
    assert (calls, rows) == (6, 6)


class ThreadRecordingModel(SlowModel):
    """Notes which thread runs each predict call."""

    def __init__(self, model: Any, delay: float) -> None:
        super().__init__(model, delay)
        self.threads: list[str] = []

    def predict(self, data: Any, params: Any = None) -> Any:
        self.threads.append(threading.current_thread().name)
        return super().predict(data, params)


# The threshold is raised for the test so that a loaded CI machine, where even a trivial
# call can average over a millisecond, still tells a fast model (well under 50 ms) from a
# slow one (10 ms a call against a 5 ms threshold).
@pytest.mark.parametrize(
    ("delay", "threshold", "inline"), [(0.0, 0.05, True), (0.01, 0.005, False)]
)
def test_merged_calls_of_a_fast_model_run_on_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delay: float, threshold: float, inline: bool
) -> None:
    monkeypatch.setattr(batching, "INLINE_BELOW_S", threshold)
    model = ThreadRecordingModel(load(scaled_sum_model(tmp_path / "m")), delay)
    settings = ServingSettings("m", batching=BatchingSettings(max_batch_size=64))
    with serving(settings, lambda _uri: model) as client:
        model.threads.clear()
        for _ in range(12):
            responses = concurrently(client, [{"inputs": [[1, 2, 3]]}] * 6)
            assert {r.status_code for r in responses} == {200}
            assert {r.json()["predictions"][0] for r in responses} == {6.0}
    # Calls are timed; once their moving average is under a millisecond, a fast model's
    # calls run on the loop (a thread hand-over costs more than they do), a slow model's
    # never.
    on_loop = [not name.startswith("heron-") for name in model.threads]
    assert on_loop[-3:] == [inline] * 3, model.threads
    assert any(on_loop) == inline


def test_merge_and_split_round_trip_arrays_and_frames() -> None:
    arrays = [ScoringInput(np.ones((n, 3)), n) for n in (1, 3, 2)]
    assert len({merge_key(a) for a in arrays}) == 1
    merged = merge(arrays)
    assert merged.data.shape == (6, 3)
    parts = split(np.arange(6), [1, 3, 2])
    assert parts is not None
    assert [p.tolist() for p in parts] == [[0], [1, 2, 3], [4, 5]]
    frames = [ScoringInput(pd.DataFrame({"a": [1.0] * n}), n) for n in (2, 1)]
    assert merge(frames).rows == 3
    frame_parts = split(pd.DataFrame({"p": [1, 2, 3]}), [2, 1])
    assert frame_parts is not None
    assert frame_parts[1]["p"].tolist() == [3]
    dict_parts = split({"a": np.arange(3), "b": np.arange(3)}, [1, 2])
    assert dict_parts is not None
    assert dict_parts[1]["b"].tolist() == [1, 2]
    # An output without one row per input row cannot be split: requests run one by one.
    assert split(np.arange(4), [1, 2]) is None
    assert split(3.0, [1]) is None


def test_requests_that_cannot_share_a_call_get_different_keys() -> None:
    base = ScoringInput(np.ones((1, 3)), 1)
    assert merge_key(base) != merge_key(ScoringInput(np.ones((1, 4)), 1))
    assert merge_key(base) != merge_key(ScoringInput(np.ones((1, 3), dtype=np.float32), 1))
    assert merge_key(base) != merge_key(ScoringInput(np.ones((1, 3)), 1, {"scale": 2}))
    assert merge_key(ScoringInput({"x": np.ones(1)}, 1)) is None


def test_batching_settings_are_validated() -> None:
    from heron.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="max_batch_size"):
        BatchingSettings(max_batch_size=0)
    with pytest.raises(InvalidArgument, match="max_latency_ms"):
        BatchingSettings(max_latency_ms=-1)
