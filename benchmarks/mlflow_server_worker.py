"""MLflow's side of the server benchmark: ``MlflowClient`` over HTTP to an ``mlflow server``.

Run with benchmarks/.venv-mlflow/bin/python by bench_server.py: ``serve`` answers workload
commands, ``writer N`` is one of the concurrent writers of (f). The server's URL and the
database URL used to seed runs come in the BENCH_SERVER_CONFIG environment variable.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

import mlflow
import sqlalchemy
from mlflow import MlflowClient
from mlflow.entities import Metric

from bench_server_common import common_tasks, serve, server_config, writer_main
from mlflow_worker import MlflowSide


class MlflowServerSide(MlflowSide):
    def __init__(self, config: dict[str, Any]) -> None:
        # MlflowSide.__init__ would open embedded SQLite stores: set up the REST client only.
        self.uri = config["url"]
        self.seed_url = config["seed_url"]
        self.client = MlflowClient(tracking_uri=self.uri)
        self.versions = {
            "mlflow": mlflow.__version__,
            "sqlalchemy": sqlalchemy.__version__,
            "python": platform.python_version(),
        }

    def new_experiment(self, name: str) -> str:
        # The server's default artifact root (proxied by the server), as users get it.
        return str(self.client.create_experiment(name))

    def seed_target(self) -> tuple[str, str]:
        return self.seed_url, "run_uuid"

    def fetch_history(self, run_id: str, key: str) -> list[Metric]:
        # Pages of 25,000 points (GET_METRIC_HISTORY_MAX_RESULTS) until the last one.
        return self.client.get_metric_history(run_id, key)

    def history_pairs(self, fetched: list[Metric]) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in fetched]


def main() -> None:
    side = MlflowServerSide(server_config())
    if sys.argv[1:2] == ["serve"]:
        serve(side, common_tasks(__file__))
    elif sys.argv[1:2] == ["writer"]:
        writer_main(side, int(sys.argv[2]))
    else:
        sys.exit("usage: mlflow_server_worker.py serve | writer N")


if __name__ == "__main__":
    main()
