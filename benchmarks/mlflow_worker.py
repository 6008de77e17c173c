"""MLflow's side of the tracking benchmark; run with benchmarks/.venv-mlflow/bin/python.

Every workload goes through MLflow's public API (``MlflowClient`` and the fluent
``mlflow.log_metric``) against its embedded SQLite store, exactly as a user would call it.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import mlflow
import sqlalchemy
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from bench_common import RunSpec, Side
from bench_protocol import serve


class MlflowSide:
    name = "mlflow"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.uri = f"sqlite:///{workdir / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri)
        mlflow.set_tracking_uri(f"sqlite:///{workdir / 'fluent.db'}")
        self.versions = {
            "mlflow": mlflow.__version__,
            "sqlalchemy": sqlalchemy.__version__,
            "python": platform.python_version(),
        }

    def new_experiment(self, name: str) -> str:
        # An explicit artifact location keeps MLflow from creating ./mlruns anywhere.
        location = (self.workdir / "artifacts" / name).as_uri()
        return str(self.client.create_experiment(name, artifact_location=location))

    def new_run(self, experiment_id: str, name: str) -> str:
        return str(self.client.create_run(experiment_id, run_name=name).info.run_id)

    def log_metric(self, run_id: str, key: str, value: float, step: int) -> None:
        self.client.log_metric(run_id, key, value, step=step, synchronous=True)

    def metric_entities(self, points: list[tuple[str, float, int, int]]) -> list[Metric]:
        return [Metric(key, value, ts, step) for key, value, ts, step in points]

    def log_metric_entities(self, run_id: str, entities: list[Metric]) -> None:
        self.client.log_batch(run_id, metrics=entities, synchronous=True)

    def run_entities(self, spec: RunSpec, timestamp: int) -> Any:
        return (
            [Metric(k, v, timestamp, 0) for k, v in spec.metrics.items()],
            [Param(k, v) for k, v in spec.params.items()],
            [RunTag(k, v) for k, v in spec.tags.items()],
        )

    def log_run_entities(self, run_id: str, entities: Any) -> None:
        metrics, params, tags = entities
        self.client.log_batch(run_id, metrics=metrics, params=params, tags=tags, synchronous=True)

    def end_run(self, run_id: str) -> None:
        self.client.set_terminated(run_id)

    def fluent_start(self, experiment_name: str) -> None:
        mlflow.set_experiment(experiment_name)
        mlflow.start_run()

    def fluent_log_metric(self, key: str, value: float, step: int) -> None:
        # MLflow's default: synchronous unless async logging is switched on (it is not).
        mlflow.log_metric(key, value, step=step)

    def fluent_flush(self) -> None:
        mlflow.flush_async_logging()

    def fluent_end(self) -> None:
        mlflow.end_run()

    def search(
        self,
        experiment_id: str,
        filter_string: str | None,
        order_by: str,
        max_results: int,
        page_token: str | None,
    ) -> tuple[list[tuple[str, float]], str | None]:
        page = self.client.search_runs(
            [experiment_id],
            filter_string or "",
            max_results=max_results,
            order_by=[order_by],
            page_token=page_token,
        )
        found = [(run.info.run_name, run.data.metrics["auc"]) for run in page]
        return found, page.token

    def run_data(self, run_id: str) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
        data = self.client.get_run(run_id).data
        return data.params, data.metrics, data.tags

    def seed_target(self) -> tuple[str, str]:
        return self.uri, "run_uuid"


def _factory(config: dict[str, Any]) -> Side:
    return MlflowSide(Path(config["workdir"]))


if __name__ == "__main__":
    serve(_factory)
