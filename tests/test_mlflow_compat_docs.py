"""The "Moving from MLflow" commands of docs/mlflow-compat.md run as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "mlflow-compat.md").read_text()
BIN = Path(sys.executable).parent


def _block(language: str) -> str:
    (first, *_) = re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)
    return str(first)


@pytest.mark.slow
def test_moving_from_mlflow_commands_run(tmp_path: Path) -> None:
    lines = _block("bash").strip().splitlines()
    port = str(free_port())  # the doc's 5000 may be taken on a shared machine
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("HERON_TRACKING_URI", None)
    (tmp_path / "train_with_mlflow.py").write_text(_block("python"))
    server = subprocess.Popen(
        shlex.split(lines[0].removesuffix("&").strip().replace("5000", port)),
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        name, url = lines[1].removeprefix("export ").split("=", 1)
        env[name] = url.replace("5000", port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{env[name]}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        outputs = []
        for line in lines[2:]:
            done = subprocess.run(
                shlex.split(line.replace("5000", port)),
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout)
        trained, listed = outputs
        assert "baseline" in trained
        assert "0.93" in trained
        assert "baseline" in listed  # the MLflow run, listed by Heron's CLI
        assert "0.93" in listed
    finally:
        server.terminate()
        server.wait(timeout=30)
