"""Metric history kept per (run, key) series, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from heron.entities import Metric
from heron.errors import InvalidArgument, NotFound
from heron.services import TrackingService
from heron.store.sql_search import encode_token, query_fingerprint


def _all_points(service: TrackingService, run_id: str, key: str, page: int) -> list[Metric]:
    points: list[Metric] = []
    token = None
    while True:
        got = service.get_metric_history(run_id, key, max_results=page, page_token=token)
        points.extend(got)
        token = got.next_page_token
        if token is None:
            return points


def test_pages_through_duplicate_points_in_arrival_order(service: TrackingService) -> None:
    """Points with the same step and timestamp (even the same value) are all kept, in the
    order they were logged, and paging never skips or repeats one at a page boundary."""
    run = service.create_run(service.create_experiment("ties").id)
    first = [Metric("m", float(i % 3), 1000, i // 4) for i in range(20)]
    second = [Metric("m", 9.0, 1000, 2), Metric("m", 9.0, 1000, 2), Metric("m", -1.0, 999, 0)]
    service.log_batch(run.id, metrics=first)
    service.log_batch(run.id, metrics=second)
    expected = sorted(
        enumerate(first + second), key=lambda item: (item[1].step, item[1].timestamp, item[0])
    )
    for page in (1, 3, 4, 23, 100):
        assert _all_points(service, run.id, "m", page) == [m for _, m in expected]


def test_series_of_runs_and_keys_stay_apart(service: TrackingService) -> None:
    experiment = service.create_experiment("apart").id
    one, two = service.create_run(experiment), service.create_run(experiment)
    service.log_batch(one.id, metrics=[Metric("loss", 1.0, 1, 0), Metric("acc", 0.5, 1, 0)])
    service.log_batch(two.id, metrics=[Metric("loss", 2.0, 1, 0)])
    assert [m.value for m in service.get_metric_history(one.id, "loss")] == [1.0]
    assert [m.value for m in service.get_metric_history(two.id, "loss")] == [2.0]
    assert [m.value for m in service.get_metric_history(one.id, "acc")] == [0.5]
    # A key the run never logged is an empty history; a run that does not exist is not.
    assert list(service.get_metric_history(two.id, "acc")) == []
    with pytest.raises(NotFound):
        service.get_metric_history("f" * 32, "loss")


def test_batch_with_more_keys_than_one_lookup_holds(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("wide").id)
    keys = [f"k{i:04d}" for i in range(1200)]
    service.log_batch(run.id, metrics=[Metric(k, float(i), 5, i) for i, k in enumerate(keys)])
    service.log_batch(run.id, metrics=[Metric(k, -1.0, 6, 0) for k in keys[::2]])
    metrics = service.get_run(run.id).metrics
    assert len(metrics) == len(keys)
    assert metrics["k1199"] == 1199.0
    assert metrics["k0001"] == 1.0
    assert [m.value for m in service.get_metric_history(run.id, "k0100")] == [-1.0, 100.0]


def test_concurrent_first_points_of_one_key(service: TrackingService) -> None:
    """Writers creating the same new series at once all succeed and share it."""
    run = service.create_run(service.create_experiment("race").id)
    errors: list[BaseException] = []

    def log(writer: int) -> None:
        try:
            service.log_batch(run.id, metrics=[Metric("new", float(writer), writer, writer)])
        except BaseException as exc:  # reported below, with the failing writer's error
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [m.value for m in service.get_metric_history(run.id, "new")] == [
        float(i) for i in range(6)
    ]


def test_page_token_must_come_from_the_same_history(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("tokens").id)
    service.log_batch(run.id, metrics=[Metric("a", float(i), 1, i) for i in range(3)])
    token = service.get_metric_history(run.id, "a", max_results=1).next_page_token
    with pytest.raises(InvalidArgument, match="different query"):
        service.get_metric_history(run.id, "b", page_token=token)
    forged = encode_token(query_fingerprint("history", run.id, "a"), ["x", 1, 2])
    with pytest.raises(InvalidArgument, match="invalid page_token"):
        service.get_metric_history(run.id, "a", page_token=forged)
