"""The client keeps every accepted point through server crashes and outages."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from live_server import HERON, LiveServer

TRAINER = textwrap.dedent(
    """
    import json, sys, time
    import heron
    points, pause_every = int(sys.argv[1]), int(sys.argv[2])
    heron.set_experiment("reliability")
    worst = 0.0
    with heron.start_run() as run:
        print(run.id, flush=True)
        for step in range(points):
            started = time.perf_counter()
            heron.log_metric("loss", 1.0 / (step + 1), step=step)
            worst = max(worst, time.perf_counter() - started)
            if pause_every and step % pause_every == 0:
                time.sleep(0.01)
    print(json.dumps({"worst_call_s": worst}), flush=True)
    """
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "server")
    live.start()
    yield live
    live.stop()


def _trainer(tmp_path: Path, server: LiveServer, *args: str) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    env = {
        **os.environ,
        "HERON_TRACKING_URI": server.url,
        "HERON_SPOOL_DIR": str(tmp_path / "spool"),
    }
    return subprocess.Popen(
        [sys.executable, str(script), *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _history_length(server: LiveServer, run_id: str) -> int:
    with heron.Client(server.url) as client:
        return len(client.get_metric_history(run_id, "loss"))


@pytest.mark.slow
def test_server_killed_while_four_clients_log(tmp_path: Path, server: LiveServer) -> None:
    """SIGKILL mid-stream, restart: every point of every client is stored exactly once."""
    points = 25_000
    trainers = [_trainer(tmp_path, server, str(points), "500") for _ in range(4)]
    run_ids = [t.stdout.readline().strip() for t in trainers if t.stdout]
    time.sleep(1.0)
    server.kill()
    time.sleep(2.0)
    server.start()
    for trainer in trainers:
        _, stderr = trainer.communicate(timeout=180)
        assert trainer.returncode == 0, stderr
    for run_id in run_ids:
        assert _history_length(server, run_id) == points


def test_outage_does_not_block_the_training_loop(tmp_path: Path, server: LiveServer) -> None:
    trainer = _trainer(tmp_path, server, "6000", "100")
    assert trainer.stdout is not None
    run_id = trainer.stdout.readline().strip()
    server.kill()
    time.sleep(3.0)  # the loop goes on meanwhile; batches go to the spool
    server.start()
    out, stderr = trainer.communicate(timeout=120)
    assert trainer.returncode == 0, stderr
    import json

    assert json.loads(out.strip().splitlines()[-1])["worst_call_s"] < 0.5
    assert _history_length(server, run_id) == 6000
    assert list((tmp_path / "spool").glob("*.jsonl")) == []  # drained and removed


def test_heron_sync_replays_the_spool_of_a_dead_process(tmp_path: Path, server: LiveServer) -> None:
    script = tmp_path / "die.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, heron
            run = heron.start_run()
            print(run.id, flush=True)
            input()  # the test stops the server now
            for step in range(3000):
                heron.log_metric("loss", float(step), step=step)
            heron.flush(timeout=1)  # the server is down: the points go to the spool
            os.kill(os.getpid(), signal.SIGKILL)  # die before the server returns
            """
        )
    )
    env = {
        **os.environ,
        "HERON_TRACKING_URI": server.url,
        "HERON_SPOOL_DIR": str(tmp_path / "spool"),
    }
    process = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdin is not None
    run_id = process.stdout.readline().strip()
    server.kill()
    process.communicate("\n", timeout=120)
    assert list((tmp_path / "spool").glob("*.jsonl")), "the dead process left no spool"
    server.start()

    command = [HERON, "sync", "--spool-dir", str(tmp_path / "spool")]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert "Sent 3000 metric points" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert "Nothing to send" in again.stdout
    assert _history_length(server, run_id) == 3000
