"""The snippets of docs/serving.md run as written: Python, the serve-and-curl session,
the endpoint commands, and the DuckDB query of the log the session wrote."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from live_server import free_port
from model_extras import require

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "serving.md").read_text()
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


def run_python(snippet: str, folder: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", snippet], cwd=folder, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{snippet}\n{done.stderr}"
    return done.stdout


def run_shell(line: str, folder: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-c", line], cwd=folder, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_serving_guide_runs_as_written(tmp_path: Path) -> None:
    require("skops", "sklearn")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    env["HERON_TRACKING_URI"] = f"sqlite:///{tmp_path / 'heron.db'}"
    save, query = blocks("python")
    serve_session, endpoint_commands = blocks("bash")
    run_python(save, tmp_path, env)

    port = str(free_port())
    start, *requests = serve_session.replace("8080", port).strip().splitlines()
    assert start.startswith("heron serve ")
    server = subprocess.Popen(
        ["bash", "-c", f"exec {start}"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.1)
        answers = [json.loads(run_shell(line, tmp_path, env)) for line in requests]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)  # graceful: the prediction log is flushed on the way out
    assert answers[0] == {"predictions": [0, 1]}
    assert answers[1] == {"predictions": [0]}
    documented = re.search(r"the last is the V2 response\n`(.*?)`", DOC, flags=re.S)
    assert documented is not None
    assert answers[2] == json.loads(documented.group(1).replace("\n", ""))

    for line in endpoint_commands.strip().splitlines():
        run_shell(line, tmp_path, env)
    shown = run_shell("heron endpoints show fraud --json", tmp_path, env)
    assert json.loads(shown)["shadows"] == ["models:/fraud-detector/7"]

    printed = run_python(query, tmp_path, env)
    assert "('fraud-model', '1', 3," in printed
