"""Helpers for the MLflow compatibility tests: MLflow's client pointed at a live Heron server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from live_server import LiveServer


def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("heron-for-mlflow"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def mlflow_pointed_at(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """MLflow's client configured the way a migrating user would: one variable."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    # A refused request must fail the test at once, not after minutes of retries.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(url)
    # The fluent API remembers the active experiment per process, across servers: start
    # each test in this server's default experiment, as a fresh process would.
    mlflow.set_experiment("Default")
    try:
        yield url
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
