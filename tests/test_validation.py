"""Input rules: what is refused, and that the message says how to fix it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heron.entities import Metric, Param, RunTag
from heron.errors import InvalidArgument
from heron.services import TrackingService
from heron.services import validation as v


@pytest.mark.parametrize("key", ["loss", "train/loss", "val acc", "a.b-c_d:e", "x" * 250])
def test_valid_keys(key: str) -> None:
    assert v.validate_key("metric", key) == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "empty"),
        ("../etc/passwd", "'..'"),
        ("a/../b", "'..'"),
        ("/abs", "leading '/'"),
        ("a//b", "empty"),
        ("a/./b", "'.'"),
        ("a\\b", "contains"),
        ("a$b", "contains"),
        ("x" * 251, "limit is 250"),
    ],
)
def test_invalid_keys(key: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        v.validate_key("metric", key)


def test_metric_values() -> None:
    assert v.validate_metric_value("m", np.float32(0.5)) == 0.5
    assert v.validate_metric_value("m", 3) == 3.0
    assert math.isnan(v.validate_metric_value("m", math.nan))
    assert v.validate_metric_value("m", -math.inf) == -math.inf
    for bad in ["0.5", None, True, [1.0]]:
        with pytest.raises(InvalidArgument, match="must be a number"):
            v.validate_metric_value("m", bad)


def test_steps_and_timestamps() -> None:
    assert v.validate_step("m", np.int64(3)) == 3
    assert v.validate_step("m", 4.0) == 4
    with pytest.raises(InvalidArgument, match="integer"):
        v.validate_step("m", 1.5)
    with pytest.raises(InvalidArgument, match="out of range"):
        v.validate_timestamp("m", -1)
    with pytest.raises(InvalidArgument, match="milliseconds"):
        v.validate_timestamp("m", 1.5)


def test_oversized_values(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("limits").id)
    with pytest.raises(InvalidArgument, match="limit is 6000"):
        service.log_param(run.id, "big", "x" * 6001)
    service.log_param(run.id, "ok", "x" * 6000)
    with pytest.raises(InvalidArgument, match="limit is 8000"):
        service.set_tag(run.id, "big", "x" * 8001)
    with pytest.raises(InvalidArgument, match="split it"):
        service.log_batch(run.id, metrics=[Metric("m", 1.0, 1, i) for i in range(10_001)])
    with pytest.raises(InvalidArgument, match="limit is 250"):
        service.create_run(run.experiment_id, run_name="r" * 251)


def test_batch_validation_happens_before_any_write(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("atomic").id)
    with pytest.raises(InvalidArgument):
        service.log_batch(
            run.id,
            metrics=[Metric("good", 1.0, 1, 0)],
            params=[Param("p", "1")],
            tags=[RunTag("bad key!", "x")],
        )
    stored = service.get_run(run.id)
    assert (stored.metrics, stored.params, stored.tags) == ({}, {}, {})


def test_max_results_bounds(service: TrackingService) -> None:
    experiment = service.create_experiment("bounds").id
    for bad in [0, -1, 50_001]:
        with pytest.raises(InvalidArgument, match="max_results"):
            service.search_runs([experiment], max_results=bad)


def test_values_beyond_what_the_columns_hold(service: TrackingService) -> None:
    """Refused with a clear error on every backend (PostgreSQL would otherwise fail late)."""
    from heron.entities import Dataset, RunInput
    from heron.errors import NotFound

    experiment = service.create_experiment("columns").id
    with pytest.raises(InvalidArgument, match="user"):
        service.create_run(experiment, user="u" * 257)
    with pytest.raises(InvalidArgument, match="git_commit"):
        service.create_run(experiment, git_commit="c" * 65)
    run = service.create_run(experiment)
    too_long = Dataset("d", "x" * 65, "pandas", "memory")
    with pytest.raises(InvalidArgument, match="digest"):
        service.log_inputs(run.id, [RunInput(too_long)])
    with pytest.raises(NotFound):
        service.get_experiment(str(2**70))
    with pytest.raises(NotFound):
        service.search_runs([str(2**70)])
    found = service.search_runs([experiment], filter_string=f"metrics.m > {2**70}")
    assert found.items == []
    assert service.search_runs([experiment], filter_string=f"experiment_id = '{2**70}'").items == []
    with pytest.raises(InvalidArgument, match="out of range"):
        service.search_runs([experiment], filter_string=f"attributes.start_time > {2**70}")


def test_artifact_file_and_folder_cannot_share_a_name(service: TrackingService) -> None:
    import io

    run = service.create_run(service.create_experiment("clash").id)
    service.write_artifact(run.id, "d/f", io.BytesIO(b"x"))
    with pytest.raises(InvalidArgument, match="share a name"):
        service.write_artifact(run.id, "d", io.BytesIO(b"y"))
    with pytest.raises(InvalidArgument, match="share a name"):
        service.write_artifact(run.id, "d/f/g", io.BytesIO(b"z"))
    with pytest.raises(InvalidArgument, match="too long"):
        service.write_artifact(run.id, "a" * 300, io.BytesIO(b"z"))
