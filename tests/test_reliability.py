"""The client keeps every accepted point through server crashes and outages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import heron
from heron.client.batch_logger import BatchLogger
from heron.client.spool import Spool, read_spool
from heron.entities import Metric
from heron.errors import Unavailable
from live_server import HERON, LiveServer

OUTAGE_S = 30.0  # as issue 3 states it

# A training loop: ``points`` steps, or (with points 0) steps until ``stop_file`` exists,
# resting 10 ms every ``steps_per_rest`` steps. It prints the run id, a line at every
# quarter of its points, then what it measured.
TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    import heron
    points, steps_per_rest, stop_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    heron.set_experiment("reliability")
    worst, step = 0.0, 0
    with heron.start_run() as run:
        print(run.id, flush=True)
        while step < points if points else not os.path.exists(stop_file):
            started = time.perf_counter()
            heron.log_metric("loss", 1.0 / (step + 1), step=step)
            worst = max(worst, time.perf_counter() - started)
            step += 1
            if points and step % (points // 4) == 0:
                print("quarter", flush=True)
            if step % steps_per_rest == 0:
                time.sleep(0.01)  # the rest of a training step
        loop_ended = time.perf_counter()
    ending = time.perf_counter() - loop_ended  # end_run: flush, then mark the run finished
    print(json.dumps({"points": step, "worst_call_s": worst, "end_run_s": ending}), flush=True)
    """
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "server")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Trainers a failed test would leave behind are killed, not left logging."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _trainer(
    tmp_path: Path, server: LiveServer, points: int, steps_per_rest: int
) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    env = {
        **os.environ,
        "HERON_TRACKING_URI": server.url,
        "HERON_SPOOL_DIR": str(tmp_path / "spool"),
    }
    return subprocess.Popen(
        [sys.executable, str(script), str(points), str(steps_per_rest), str(tmp_path / "stop")],
        env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _readline(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line, f"the trainer ended early: {process.communicate(timeout=30)[1]}"
    return line


def _finish(trainer: subprocess.Popen[str]) -> dict[str, Any]:
    out, stderr = trainer.communicate(timeout=180)
    assert trainer.returncode == 0, stderr
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def _stored_steps(server: LiveServer, run_id: str) -> list[int]:
    with heron.Client(server.url) as client:
        return sorted(m.step for m in client.get_metric_history(run_id, "loss"))


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


@pytest.mark.slow
def test_server_killed_while_four_clients_log(
    tmp_path: Path, server: LiveServer, processes: list[subprocess.Popen[str]]
) -> None:
    """SIGKILL mid-stream, restart: every point of every client is stored exactly once."""
    points = 100_000
    trainers = [_trainer(tmp_path, server, points, 500) for _ in range(4)]
    processes.extend(trainers)
    run_ids = [_readline(trainer) for trainer in trainers]
    for trainer in trainers:
        assert _readline(trainer) == "quarter"
    server.kill()
    assert all(trainer.poll() is None for trainer in trainers), "killed after the logging"
    # Batches that fail while it is down go to the spool (and some were cut mid-request).
    _wait_for(lambda: any((tmp_path / "spool").glob("*.jsonl")), 30, "spooling")
    server.start()
    for trainer in trainers:
        assert _finish(trainer)["points"] == points
    for run_id in run_ids:
        assert _stored_steps(server, run_id) == list(range(points))  # none lost, none twice
    assert list((tmp_path / "spool").glob("*.jsonl")) == []  # drained and removed


@pytest.mark.slow
def test_outage_does_not_block_the_training_loop(
    tmp_path: Path, server: LiveServer, processes: list[subprocess.Popen[str]]
) -> None:
    """The server is down for 30 s; the loop goes on, and everything arrives afterwards."""
    trainer = _trainer(tmp_path, server, 0, 10)  # about 1,000 steps a second
    processes.append(trainer)
    run_id = _readline(trainer)
    _wait_for(lambda: len(_stored_steps(server, run_id)) > 0, 30, "the first points")
    server.stop()
    time.sleep(OUTAGE_S)
    assert trainer.poll() is None
    assert list((tmp_path / "spool").glob("*.jsonl")), "the outage was not noticed"
    server.start()
    returned = time.monotonic()
    _wait_for(lambda: not list((tmp_path / "spool").glob("*.jsonl")), 30, "draining the spool")
    drained_after = time.monotonic() - returned
    (tmp_path / "stop").touch()
    report = _finish(trainer)
    # log_metric only enqueues: a call never waits for the network, down or not.
    assert report["worst_call_s"] < 0.5
    # The server is back: ending the run waits for the last batch, not for a retry timer.
    assert report["end_run_s"] < 5
    assert drained_after < 10
    assert _stored_steps(server, run_id) == list(range(report["points"]))


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
    assert _stored_steps(server, run_id) == list(range(3000))


def test_an_outage_spools_few_batches_and_flush_retries_at_once(tmp_path: Path) -> None:
    """While the server is down, points gather into full batches (not one spool line per
    tiny batch); once it is back, flush() resends at once instead of waiting for a timer."""
    down = True
    received: list[tuple[str, int]] = []  # (request id, points)

    def send(run_id: str, metrics: Any, request_id: str) -> None:
        if down:
            raise Unavailable("connection refused")
        received.append((request_id, len(metrics)))

    spool = Spool(tmp_path / "spool", "http://heron.test")
    logger = BatchLogger(send, max_batch=500, spool=spool, retry_interval=30.0)
    for step in range(2000):
        logger.enqueue("run", [Metric("loss", 0.5, 0, step)])
        if step % 100 == 0:
            time.sleep(0.005)  # the worker gets to run between steps, as in training
    logger.flush(spool_timeout=0.2)  # still down: returns, the rest kept on disk
    spooled = list(read_spool(spool.path))
    assert sum(len(batch.metrics) for batch in spooled) == 2000
    assert len(spooled) <= 6  # 4 full batches, plus what was in flight when it failed

    down = False
    started = time.monotonic()
    logger.flush(spool_timeout=10)
    assert time.monotonic() - started < 2  # not the 30 s retry interval
    assert sum(points for _, points in received) == 2000
    assert [request_id for request_id, _ in received] == [b.request_id for b in spooled]
    assert not spool.path.exists()
    logger.close()
