"""Several processes writing one SQLite file (a server with N workers) lose nothing."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from heron.entities import Metric
from heron.services import TrackingService
from heron.store import SqlTrackingStore


def _write(uri: str, run_id: str, writer: int, batches: int, start: Any) -> None:
    service = TrackingService(SqlTrackingStore(uri), "/unused")
    start.wait(30)
    try:
        for batch in range(batches):
            points = [Metric(f"w{writer}", float(step), 1, batch * 50 + step) for step in range(50)]
            service.log_batch(run_id, metrics=points, request_id=f"w{writer}-b{batch}")
            if batch % 5 == 0:  # a retried batch is stored once, across processes too
                service.log_batch(run_id, metrics=points, request_id=f"w{writer}-b{batch}")
    finally:
        service.close()


def test_processes_writing_one_sqlite_file_lose_nothing(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    service = TrackingService(SqlTrackingStore(uri), str(tmp_path / "artifacts"))
    run_id = service.create_run(service.create_experiment("contention").id).id
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers, batches = 4, 20
    processes = [
        context.Process(target=_write, args=(uri, run_id, w, batches, start))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    time.sleep(0.5)  # let them open the store, then write at the same moment
    start.set()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    for writer in range(writers):
        history = service.get_metric_history(run_id, f"w{writer}", max_results=10_000).items
        assert [m.step for m in history] == list(range(batches * 50))
    service.close()
