"""`heron endpoints ...` and `heron serve`: the commands of the serving issue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from heron.cli.main import app
from live_server import HERON, free_port
from serving_helpers import constant_model

runner = CliRunner(env={"COLUMNS": "200", "HERON_TRACKING_URI": None})


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'heron.db'}"


def heron(uri: str, *args: str) -> Result:
    return runner.invoke(app, ["--tracking-uri", uri, *args])


def test_create_update_show_list_and_delete(uri: str) -> None:
    created = heron(uri, "endpoints", "create", "fraud", "--model", "models:/fraud@champion")
    assert created.exit_code == 0, created.output
    assert "models:/fraud@champion" in created.stdout
    assert "100.0%" in created.stdout
    split = heron(
        uri,
        "endpoints", "update", "fraud",
        "--route", "models:/fraud/5=95", "--route", "models:/fraud/6=5",
        "--max-batch-size", "32",
    )  # fmt: skip
    assert split.exit_code == 0, split.output
    assert "95.0%" in split.stdout
    assert "5.0%" in split.stdout
    assert "up to 32 rows" in split.stdout
    shadowed = heron(uri, "endpoints", "update", "fraud", "--shadow", "models:/fraud/7", "--json")
    assert shadowed.exit_code == 0, shadowed.output
    body = json.loads(shadowed.stdout)
    assert body["revision"] == 3
    assert body["shadows"] == ["models:/fraud/7"]
    assert [r["weight"] for r in body["routes"]] == [95, 5]  # kept
    assert body["batching"]["max_batch_size"] == 32
    cleared = heron(uri, "endpoints", "update", "fraud", "--no-shadows", "--json")
    assert json.loads(cleared.stdout)["shadows"] == []
    listed = heron(uri, "endpoints", "list", "--json")
    assert [e["name"] for e in json.loads(listed.stdout)] == ["fraud"]
    assert "models:/fraud/5=95" in heron(uri, "endpoints", "list").stdout
    assert heron(uri, "endpoints", "show", "fraud").exit_code == 0
    assert heron(uri, "endpoints", "delete", "fraud").exit_code == 0
    assert heron(uri, "endpoints", "show", "fraud").exit_code == 3


def test_mistakes_get_usage_exit_codes(uri: str) -> None:
    assert heron(uri, "endpoints", "create", "fraud").exit_code == 2
    bad_weight = heron(uri, "endpoints", "create", "fraud", "--route", "models:/f/1=lots")
    assert bad_weight.exit_code == 2
    assert "whole number" in bad_weight.output
    heron(uri, "endpoints", "create", "fraud", "--model", "models:/f/1")
    assert heron(uri, "endpoints", "create", "fraud", "--model", "models:/f/1").exit_code == 4
    stale = heron(uri, "endpoints", "update", "fraud", "--shadow", "x", "--expected-revision", "9")
    assert stale.exit_code == 5
    assert heron(uri, "endpoints", "serve", "nothing").exit_code == 3


@pytest.mark.slow
def test_heron_endpoints_serve_follows_changes(uri: str, tmp_path: Path) -> None:
    v1 = constant_model(tmp_path / "v1", 1.0)
    v2 = constant_model(tmp_path / "v2", 2.0)
    assert heron(uri, "endpoints", "create", "fraud", "--model", str(v1)).exit_code == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}/invocations"
    command = [HERON, "--tracking-uri", uri, "endpoints", "serve", "fraud", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--poll-interval", "0.2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    row = {"inputs": [[1, 2, 3]]}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.post(url, json=row, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert httpx.post(url, json=row).json() == {"predictions": [1.0]}
        assert heron(uri, "endpoints", "update", "fraud", "--route", f"{v2}=1").exit_code == 0
        deadline = time.monotonic() + 15
        # Both workers follow: wait until several answers in a row come from v2.
        streak = 0
        while streak < 10:
            response = httpx.post(url, json=row)
            assert response.status_code == 200
            streak = streak + 1 if response.headers["x-heron-model-version"] == "v2" else 0
            assert time.monotonic() < deadline
        assert response.json() == {"predictions": [2.0]}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
