"""Runs, params, metrics, tags and inputs in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest

from heron.entities import Dataset, LifecycleStage, Metric, Param, RunInput, RunStatus, RunTag
from heron.errors import InvalidArgument, NotFound
from heron.services import TrackingService


@pytest.fixture
def experiment_id(service: TrackingService) -> str:
    return service.create_experiment("exp").id


def test_create_run_records_everything(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(
        experiment_id,
        run_name="baseline",
        user="ana",
        source="/src/train.py",
        git_commit="abc123",
        tags={"team": "risk"},
        start_time=1_700_000_000_000,
    )
    assert run.name == "baseline"
    assert run.status is RunStatus.RUNNING
    assert run.user == "ana"
    assert run.source == "/src/train.py"
    assert run.git_commit == "abc123"
    assert run.tags == {"team": "risk"}
    assert run.start_time == 1_700_000_000_000
    assert run.end_time is None
    assert run.artifact_uri.endswith(f"/{experiment_id}/{run.id}/artifacts")
    assert service.get_run(run.id) == run


def test_generated_run_name(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    assert run.name.count("-") == 2


def test_end_run_sets_status_and_end_time(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    service.end_run(run.id, RunStatus.FAILED)
    ended = service.get_run(run.id)
    assert ended.status is RunStatus.FAILED
    assert ended.end_time is not None
    assert ended.end_time >= run.start_time
    with pytest.raises(InvalidArgument, match="FINISHED, FAILED or KILLED"):
        service.end_run(run.id, RunStatus.RUNNING)


def test_nested_runs_need_an_existing_parent(service: TrackingService, experiment_id: str) -> None:
    parent = service.create_run(experiment_id)
    child = service.create_run(experiment_id, parent_run_id=parent.id)
    assert child.parent_run_id == parent.id
    with pytest.raises(NotFound):
        service.create_run(experiment_id, parent_run_id="f" * 32)


def test_params_are_immutable(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    service.log_param(run.id, "C", 0.5)
    service.log_param(run.id, "C", "0.5")  # the same value again is fine
    with pytest.raises(InvalidArgument, match="immutable"):
        service.log_param(run.id, "C", 1.0)
    assert service.get_run(run.id).params == {"C": "0.5"}


def test_rejected_batch_stores_nothing(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    service.log_param(run.id, "C", "0.5")
    with pytest.raises(InvalidArgument):
        service.log_batch(
            run.id,
            metrics=[Metric("auc", 0.9, 1, 0)],
            params=[Param("penalty", "l2"), Param("C", "9")],
            tags=[RunTag("team", "risk")],
        )
    stored = service.get_run(run.id)
    assert stored.params == {"C": "0.5"}
    assert stored.metrics == {}
    assert stored.tags == {}


def test_conflicting_params_in_one_batch(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    with pytest.raises(InvalidArgument, match="twice"):
        service.log_batch(run.id, params=[Param("a", "1"), Param("a", "2")])


def test_metric_history_and_latest(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    service.log_batch(
        run.id,
        metrics=[
            Metric("loss", 0.5, 1000, 5),
            Metric("loss", 0.9, 2000, 1),  # later in time, earlier step: not the latest
            Metric("loss", 0.4, 1500, 5),  # same step, later time: the latest
        ],
    )
    service.log_metric(run.id, "loss", 0.7, step=3, timestamp=3000)  # out of order: ignored
    assert service.get_run(run.id).metrics == {"loss": 0.4}
    history = service.get_metric_history(run.id, "loss").items
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (1, 2000, 0.9),
        (3, 3000, 0.7),
        (5, 1000, 0.5),
        (5, 1500, 0.4),
    ]


def test_metric_history_pages(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    service.log_batch(run.id, metrics=[Metric("m", float(i), 1000 + i, i) for i in range(25)])
    values: list[float] = []
    token = None
    while True:
        page = service.get_metric_history(run.id, "m", max_results=10, page_token=token)
        values.extend(m.value for m in page)
        token = page.next_page_token
        if token is None:
            break
    assert values == [float(i) for i in range(25)]
    with pytest.raises(NotFound):
        service.get_metric_history("0" * 32, "m")


def test_nan_and_infinity_are_stored_faithfully(
    service: TrackingService, experiment_id: str
) -> None:
    run = service.create_run(experiment_id)
    service.log_batch(
        run.id,
        metrics=[
            Metric("nan", math.nan, 1, 0),
            Metric("inf", math.inf, 1, 0),
            Metric("-inf", -math.inf, 1, 0),
        ],
    )
    metrics = service.get_run(run.id).metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["-inf"] == -math.inf
    assert math.isnan(service.get_metric_history(run.id, "nan").items[0].value)


def test_tags_upsert_and_delete(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id)
    service.set_tag(run.id, "stage", "dev")
    service.set_tag(run.id, "stage", "prod")
    assert service.get_run(run.id).tags == {"stage": "prod"}
    service.delete_tag(run.id, "stage")
    assert service.get_run(run.id).tags == {}
    with pytest.raises(NotFound):
        service.delete_tag(run.id, "stage")


def test_deleted_runs_refuse_writes_until_restored(
    service: TrackingService, experiment_id: str
) -> None:
    run = service.create_run(experiment_id)
    service.delete_run(run.id)
    assert service.get_run(run.id).lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidArgument, match="restore"):
        service.log_metric(run.id, "m", 1.0)
    service.restore_run(run.id)
    service.log_metric(run.id, "m", 1.0)
    assert service.get_run(run.id).metrics == {"m": 1.0}


def test_unknown_run(service: TrackingService) -> None:
    for call in (
        lambda: service.get_run("0" * 32),
        lambda: service.log_metric("0" * 32, "m", 1.0),
        lambda: service.delete_run("0" * 32),
        lambda: service.update_run("0" * 32, run_name="x"),
    ):
        with pytest.raises(NotFound, match="no run"):
            call()


def test_inputs_deduplicate_datasets(service: TrackingService, experiment_id: str) -> None:
    dataset = Dataset("train", "d1", "pandas", "memory", {"columns": []}, {"num_rows": 3})
    first = service.create_run(experiment_id)
    second = service.create_run(experiment_id)
    service.log_inputs(first.id, [RunInput(dataset, "training")])
    service.log_inputs(first.id, [RunInput(dataset, "training")])  # idempotent
    service.log_inputs(second.id, [RunInput(dataset, "validation")])
    assert service.get_run(first.id).inputs == (RunInput(dataset, "training"),)
    assert service.get_run(second.id).inputs == (RunInput(dataset, "validation"),)
    from heron.store.schema import datasets

    store = service.store
    with store._engines.reader.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(datasets.select()).all().__len__() == 1


def test_run_update_name(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(experiment_id, run_name="a")
    assert service.update_run(run.id, run_name="b").name == "b"
