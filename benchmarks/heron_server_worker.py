"""Heron's side of the server benchmark: ``heron.Client`` over HTTP to a ``heron server``.

Run with Heron's virtualenv by bench_server.py: ``serve`` answers workload commands,
``writer N`` is one of the concurrent writers of (f). The server's URL and the database
URL used to seed runs come in the BENCH_SERVER_CONFIG environment variable.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import Progress
from bench_server_common import common_tasks, serve, server_config, writer_main
from heron.entities import Metric
from heron_worker import HeronSide

CHUNK = 1 << 20


class HeronServerSide(HeronSide):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config["url"])  # an http:// URI: heron.Client's HTTP transport
        self.seed_url = config["seed_url"]

    def seed_target(self) -> tuple[str, str]:
        return self.seed_url, "run_id"

    def fetch_history(self, run_id: str, key: str) -> list[Metric]:
        return self.client.get_metric_history(run_id, key)

    def fetch_chart(self, run_id: str, key: str, max_points: int) -> list[Metric]:
        return self.client.get_metric_history(run_id, key, max_points=max_points)

    def history_pairs(self, fetched: list[Metric]) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in fetched]


def bench_chart(side: HeronServerSide, command: dict[str, Any], progress: Progress) -> Any:
    """(e) for a chart: the whole series reduced by the server to ``max_points`` points."""
    from bench_common import summary, timed

    run_id, points, max_points = command["run_id"], command["points"], command["max_points"]
    seconds = []
    chart: list[Metric] = []
    for r in range(command["repeats"]):

        def fetch() -> None:
            nonlocal chart
            chart = side.fetch_chart(run_id, "hist", max_points)

        seconds.append(timed(fetch))
        progress(r + 1, command["repeats"])
    if not 2 <= len(chart) <= max_points or (chart[0].step, chart[-1].step) != (0, points - 1):
        raise RuntimeError(f"chart: {len(chart)} points, from {chart[0].step} to {chart[-1].step}")
    # The throughput counts the points of the series covered, as (e)'s full fetch does.
    return summary("points/s", points, seconds, returned=len(chart), max_points=max_points)


def _write_file(path: Path, size: int) -> str:
    """``size`` bytes that do not compress (a 1 MiB random block, varied per MiB)."""
    block = os.urandom(CHUNK)
    digest = hashlib.sha256()
    with path.open("wb") as sink:
        for i in range(0, size, CHUNK):
            chunk = (i // CHUNK).to_bytes(8, "little") + block[8 : min(CHUNK, size - i)]
            digest.update(chunk)
            sink.write(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def artifacts(side: HeronServerSide, command: dict[str, Any], progress: Progress) -> Any:
    """Upload then download one generated file through the server; delete it afterwards.

    ``phase`` "prepare" writes the file and warms the routes up with a small one; "stream"
    does the measured round trip (the orchestrator samples the server's memory meanwhile).
    """
    client = side.client
    if command["phase"] == "prepare":
        temp = Path(tempfile.mkdtemp(prefix="heron-artifact-", dir=command["dir"]))
        source = temp / "big.bin"
        digest = _write_file(source, command["bytes"])
        experiment = side.new_experiment("bench-artifacts")
        run_id = side.new_run(experiment, "artifacts")
        warm = temp / "small.bin"
        _write_file(warm, 3 * CHUNK)
        client.log_artifact(run_id, warm)
        client.download_artifacts(run_id, "small.bin", temp / "warm")
        return {"run_id": run_id, "dir": str(temp), "sha256": digest}
    temp = Path(command["dir"])
    source = temp / "big.bin"
    start = time.perf_counter()
    client.log_artifact(command["run_id"], source)
    uploaded = time.perf_counter()
    progress(1, 2)
    target = client.download_artifacts(command["run_id"], "big.bin", temp / "down")
    downloaded = time.perf_counter()
    progress(2, 2)
    same = _sha256(target) == command["sha256"]
    size = source.stat().st_size
    for path in (source, target):
        path.unlink()
    if not same:
        raise RuntimeError("the downloaded artifact differs from the uploaded one")
    return {
        "bytes": size,
        "upload_s": uploaded - start,
        "download_s": downloaded - uploaded,
        "upload_mib_s": size / 2**20 / (uploaded - start),
        "download_mib_s": size / 2**20 / (downloaded - uploaded),
    }


def main() -> None:
    side = HeronServerSide(server_config())
    if sys.argv[1:2] == ["serve"]:
        tasks = common_tasks(__file__) | {"chart": bench_chart, "artifacts": artifacts}
        serve(side, tasks)  # type: ignore[arg-type]
    elif sys.argv[1:2] == ["writer"]:
        writer_main(side, int(sys.argv[2]))
    else:
        sys.exit("usage: heron_server_worker.py serve | writer N")


if __name__ == "__main__":
    main()
