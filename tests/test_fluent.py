"""The fluent API as a user drives it: runs, buffering, failures, process exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import heron
from heron.entities import RunStatus
from heron.errors import InvalidArgument


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[heron.Client]:
    monkeypatch.chdir(tmp_path)
    heron.set_tracking_uri(f"sqlite:///{tmp_path / 'heron.db'}")
    client = heron.Client(f"sqlite:///{tmp_path / 'heron.db'}")
    yield client
    while heron.active_run():
        heron.end_run()
    heron.set_tracking_uri(None)
    client.close()


def test_quickstart_snippet(tracking: heron.Client, tmp_path: Path) -> None:
    dataset = pd.DataFrame({"amount": [1.0, 2.5, 3.0], "label": [0, 1, 0]})
    (tmp_path / "confusion.png").write_bytes(b"\x89PNG fake")
    heron.set_experiment("fraud")
    with heron.start_run(run_name="lr-baseline") as run:
        heron.log_params({"C": 0.5, "penalty": "l2"})
        for step in range(100):
            heron.log_metric("loss", 1 / (step + 1), step=step)
        heron.log_metrics({"auc": 0.91, "f1": 0.84})
        heron.set_tags({"team": "risk"})
        heron.log_artifact("confusion.png")
        heron.log_dict({"features": ["amount"]}, "features.json")
        heron.log_input(dataset, context="training")
    runs = heron.search_runs(
        "fraud",
        filter="metrics.auc > 0.9 and (params.penalty = 'l2' or tags.team = 'risk')",
        order_by=["metrics.auc DESC"],
        max_results=50,
    )
    assert isinstance(runs, pd.DataFrame)
    assert list(runs["run_id"]) == [run.id]
    assert runs.loc[0, "metrics.auc"] == 0.91
    assert runs.loc[0, "params.penalty"] == "l2"
    assert runs.loc[0, "status"] == "FINISHED"

    stored = tracking.get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert stored.metrics["loss"] == 0.01
    assert len(tracking.get_metric_history(run.id, "loss")) == 100
    assert {a.path for a in tracking.list_artifacts(run.id)} == {"confusion.png", "features.json"}
    assert stored.inputs[0].context == "training"
    assert stored.inputs[0].dataset.profile["num_rows"] == 3
    assert stored.source.endswith(".py") or stored.source == "<interactive>"
    as_list = heron.search_runs("fraud", output_format="list")
    assert isinstance(as_list, list)
    assert as_list[0].id == run.id


def test_exception_in_with_block_fails_the_run_but_keeps_its_data(tracking: heron.Client) -> None:
    def train() -> str:
        with heron.start_run() as run:
            for step in range(50):
                heron.log_metric("loss", 1.0 / (step + 1), step=step)
            heron.log_param("lr", 0.1)
            raise ZeroDivisionError(run.id)

    with pytest.raises(ZeroDivisionError) as error:
        train()
    run = tracking.get_run(str(error.value))
    stored = run
    assert stored.status is RunStatus.FAILED
    assert stored.end_time is not None
    assert len(tracking.get_metric_history(run.id, "loss")) == 50
    assert stored.params == {"lr": "0.1"}
    assert heron.active_run() is None


def test_keyboard_interrupt_kills_the_run(tracking: heron.Client) -> None:
    with pytest.raises(KeyboardInterrupt), heron.start_run() as run:
        raise KeyboardInterrupt
    assert tracking.get_run(run.id).status is RunStatus.KILLED


def test_nested_runs(tracking: heron.Client) -> None:
    with heron.start_run(run_name="parent") as parent:
        with pytest.raises(InvalidArgument, match="nested=True"):
            heron.start_run()
        with heron.start_run(run_name="child", nested=True) as child:
            assert heron.active_run() is child
            heron.log_metric("m", 1.0)
        assert heron.active_run() is parent
    stored_child = tracking.get_run(child.id)
    assert stored_child.parent_run_id == parent.id
    assert stored_child.experiment_id == parent.experiment_id
    assert stored_child.metrics == {"m": 1.0}


def test_ending_a_parent_ends_its_children(tracking: heron.Client) -> None:
    parent = heron.start_run()
    child = heron.start_run(nested=True)
    heron.end_run()  # ends the child
    assert heron.active_run() is parent
    grandchild = heron.start_run(nested=True)
    parent.__exit__(None, None, None)
    assert heron.active_run() is None
    for run in (parent, child, grandchild):
        assert tracking.get_run(run.id).status is RunStatus.FINISHED


def test_logging_without_a_run_starts_one(tracking: heron.Client) -> None:
    heron.log_metric("x", 1.0)
    current = heron.active_run()
    assert current is not None
    heron.end_run()
    stored = tracking.get_run(current.id)
    assert stored.metrics == {"x": 1.0}
    assert tracking.get_experiment(stored.experiment_id).name == "Default"


def test_bad_metric_fails_at_the_call(tracking: heron.Client) -> None:
    with heron.start_run() as run:
        with pytest.raises(InvalidArgument, match="must be a number"):
            heron.log_metric("loss", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match=r"'\.\.'"):
            heron.log_metric("../etc", 1.0)
        heron.log_metric("ok", 1.0)
    assert tracking.get_run(run.id).metrics == {"ok": 1.0}


def test_changing_a_param_is_refused(tracking: heron.Client) -> None:
    with heron.start_run() as run:
        heron.log_param("C", 0.5)
        with pytest.raises(InvalidArgument, match="immutable"):
            heron.log_param("C", 1.0)
    assert tracking.get_run(run.id).params == {"C": "0.5"}


def test_resume_a_run(tracking: heron.Client) -> None:
    with heron.start_run() as run:
        heron.log_metric("m", 1.0, step=0)
    with heron.start_run(run_id=run.id):
        heron.log_metric("m", 2.0, step=1)
    stored = tracking.get_run(run.id)
    assert stored.metrics == {"m": 2.0}
    assert stored.status is RunStatus.FINISHED


def test_active_run_snapshot(tracking: heron.Client) -> None:
    with heron.start_run() as run:
        heron.log_metric("m", 3.0)
        assert run.run.metrics == {"m": 3.0}


def _run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "HERON_TRACKING_URI": f"sqlite:///{tmp_path / 'heron.db'}"}
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_process_exit_flushes_and_finishes(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        """
        import heron
        heron.set_experiment("exit")
        run = heron.start_run()
        for step in range(20000):
            heron.log_metric("loss", 1.0 / (step + 1), step=step)
        print(run.id)
        """,
    )
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip()
    with heron.Client(f"sqlite:///{tmp_path / 'heron.db'}") as client:
        stored = client.get_run(run_id)
        assert stored.status is RunStatus.FINISHED
        assert len(client.get_metric_history(run_id, "loss")) == 20000
        assert stored.source == str(tmp_path / "train.py")


def test_uncaught_exception_in_script_keeps_data(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        """
        import heron
        with heron.start_run() as run:
            print(run.id, flush=True)
            for step in range(1000):
                heron.log_metric("loss", float(step), step=step)
            raise RuntimeError("diverged")
        """,
    )
    assert result.returncode == 1
    assert "diverged" in result.stderr
    run_id = result.stdout.strip()
    with heron.Client(f"sqlite:///{tmp_path / 'heron.db'}") as client:
        assert client.get_run(run_id).status is RunStatus.FAILED
        assert len(client.get_metric_history(run_id, "loss")) == 1000
