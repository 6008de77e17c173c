"""Several processes and threads logging to one store at once lose nothing and never fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import heron
from heron.entities import Metric
from heron.services import TrackingService

WRITER = textwrap.dedent(
    """
    import sys
    import heron
    client = heron.Client(sys.argv[1])
    run_id, worker = sys.argv[2], int(sys.argv[3])
    for step in range(300):
        client.log_metric(run_id, f"w{worker}", float(step), step=step)
        if step % 50 == 0:
            client.log_param(run_id, f"p{worker}-{step}", step)
    client.close()
    """
)


def test_processes_writing_to_one_store(store_uri: str, tmp_path: Path) -> None:
    with heron.Client(store_uri) as client:
        run = client.create_run(client.create_experiment("concurrent").id)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), store_uri, run.id, str(worker)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(4)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=180)
        assert worker.returncode == 0, stderr
    with heron.Client(store_uri) as client:
        stored = client.get_run(run.id)
        assert stored.metrics == {f"w{w}": 299.0 for w in range(4)}
        assert len(stored.params) == 4 * 6
        for worker in range(4):
            assert len(client.get_metric_history(run.id, f"w{worker}")) == 300


def test_threads_writing_through_one_service(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("threads").id)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for step in range(200):
                service.log_batch(run.id, metrics=[Metric(f"t{worker}", float(step), 1, step)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert service.get_run(run.id).metrics == {f"t{w}": 199.0 for w in range(6)}


def test_sqlite_commits_concurrent_writes_together(sqlite_uri: str) -> None:
    """Under concurrency, writes share commits, and a failing write fails alone."""
    from heron.errors import InvalidArgument
    from heron.store import SqlTrackingStore

    store = SqlTrackingStore(sqlite_uri)
    service = TrackingService(store, "/tmp/unused-artifacts")
    experiment = service.create_experiment("group").id
    good = [service.create_run(experiment).id for _ in range(8)]
    deleted = service.create_run(experiment).id
    service.delete_run(deleted)
    failures: list[BaseException] = []
    unexpected: list[BaseException] = []
    barrier = threading.Barrier(9)

    def write(run_id: str) -> None:
        barrier.wait()
        for step in range(150):
            try:
                service.log_batch(run_id, metrics=[Metric("m", float(step), 1, step)])
            except InvalidArgument as exc:
                failures.append(exc)
            except BaseException as exc:
                unexpected.append(exc)

    threads = [threading.Thread(target=write, args=(r,)) for r in [*good, deleted]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    assert len(failures) == 150  # every write to the deleted run, and nothing else
    for run_id in good:
        assert len(service.get_metric_history(run_id, "m").items) == 150
    stats = store.group_commit_stats
    assert stats is not None
    assert stats.writes >= 8 * 150  # committed writes; failed groups of one roll back
    assert stats.largest > 1  # some commits carried several writes
    assert stats.groups < stats.writes
    store.close()
