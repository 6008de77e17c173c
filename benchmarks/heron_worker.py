"""Heron's side of the tracking benchmark; run with Heron's virtualenv by bench_tracking.py.

``heron_worker.py serve`` answers workload commands (see bench_common); ``heron_worker.py
memscan URI EXPERIMENT_ID PAGE_SIZE`` measures the memory of one full paginated scan in a
fresh process, so that nothing else done before inflates its peak.
"""

from __future__ import annotations

import gc
import json
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import sqlalchemy

import heron
from bench_common import RunSpec, Side, scan
from bench_protocol import serve
from heron.entities import Metric, Param, RunTag


class HeronSide:
    name = "heron"

    def __init__(self, uri: str, fluent_uri: str | None = None) -> None:
        self.uri = uri
        self.client = heron.Client(uri)
        if fluent_uri is not None:
            heron.set_tracking_uri(fluent_uri)
        self.versions = {
            "heron": heron.__version__,
            "sqlalchemy": sqlalchemy.__version__,
            "python": platform.python_version(),
        }

    def new_experiment(self, name: str) -> str:
        return self.client.create_experiment(name).id

    def new_run(self, experiment_id: str, name: str) -> str:
        return self.client.create_run(experiment_id, run_name=name).id

    def log_metric(self, run_id: str, key: str, value: float, step: int) -> None:
        self.client.log_metric(run_id, key, value, step=step)

    def metric_entities(self, points: list[tuple[str, float, int, int]]) -> list[Metric]:
        return [Metric(key, value, ts, step) for key, value, ts, step in points]

    def log_metric_entities(self, run_id: str, entities: list[Metric]) -> None:
        self.client.log_batch(run_id, metrics=entities)

    def run_entities(self, spec: RunSpec, timestamp: int) -> Any:
        return (
            [Metric(k, v, timestamp, 0) for k, v in spec.metrics.items()],
            [Param(k, v) for k, v in spec.params.items()],
            [RunTag(k, v) for k, v in spec.tags.items()],
        )

    def log_run_entities(self, run_id: str, entities: Any) -> None:
        metrics, params, tags = entities
        self.client.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def end_run(self, run_id: str) -> None:
        self.client.set_terminated(run_id)

    def fluent_start(self, experiment_name: str) -> None:
        heron.set_experiment(experiment_name)
        heron.start_run()

    def fluent_log_metric(self, key: str, value: float, step: int) -> None:
        heron.log_metric(key, value, step=step)

    def fluent_flush(self) -> None:
        heron.flush()

    def fluent_end(self) -> None:
        heron.end_run()

    def search(
        self,
        experiment_id: str,
        filter_string: str | None,
        order_by: str,
        max_results: int,
        page_token: str | None,
    ) -> tuple[list[tuple[str, float]], str | None]:
        page = self.client.search_runs(
            [experiment_id],
            filter_string,
            [order_by],
            max_results=max_results,
            page_token=page_token,
        )
        return [(run.name, run.metrics["auc"]) for run in page.items], page.next_page_token

    def run_data(self, run_id: str) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
        run = self.client.get_run(run_id)
        return run.params, run.metrics, run.tags

    def seed_target(self) -> tuple[str, str]:
        return self.uri, "run_id"


def _factory(config: dict[str, Any]) -> Side:
    workdir = Path(config["workdir"])
    return HeronSide(f"sqlite:///{workdir / 'heron.db'}", f"sqlite:///{workdir / 'fluent.db'}")


def _rss_anon_kib() -> int | None:
    # Anonymous memory only: unlike ru_maxrss it leaves out the pages of the database file
    # that SQLite maps (mmap_size), which the kernel can drop at any time.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def memscan(uri: str, experiment_id: str, page_size: int) -> dict[str, Any]:
    side = HeronSide(uri)
    # Warm up with one page only: a full warm-up scan would raise the peak in advance
    # and hide exactly the growth this measures.
    side.search(experiment_id, None, "metrics.auc DESC", page_size, None)
    gc.collect()
    base_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    base_anon = _rss_anon_kib()
    peak_anon = base_anon

    def sample(_count: int) -> None:
        nonlocal peak_anon
        anon = _rss_anon_kib()
        if anon is not None and peak_anon is not None:
            peak_anon = max(peak_anon, anon)

    start = time.perf_counter()
    count, _ = scan(side, experiment_id, page_size, sample)
    seconds = time.perf_counter() - start
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_max
    # Second pass under tracemalloc (slow, so not the one whose RSS is read above).
    tracemalloc.start()
    scan(side, experiment_id, page_size)
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "runs": count,
        "page_size": page_size,
        "seconds": seconds,
        "rss_growth_mib": rss_growth / 1024,  # ru_maxrss is in KiB on Linux
        "anon_growth_mib": None if base_anon is None else (peak_anon - base_anon) / 1024,
        "python_peak_mib": python_peak / 2**20,
    }


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(_factory)
    elif sys.argv[1:2] == ["memscan"] and len(sys.argv) == 5:
        print(json.dumps(memscan(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        sys.exit("usage: heron_worker.py serve | memscan URI EXPERIMENT_ID PAGE_SIZE")


if __name__ == "__main__":
    main()
