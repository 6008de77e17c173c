"""The workloads of the tracking benchmark, shared by the Heron and the MLflow worker.

This module is imported by both workers, each in its own virtualenv, so it depends on
the standard library only. Defining every workload once here, against the small ``Side``
interface that each worker implements with its product's public API, is what
guarantees that both products run exactly the same operations on the same data.
"""

from __future__ import annotations

import gc
import hashlib
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

METRIC_KEYS = ("auc", "loss", "accuracy", "f1", "precision")
SEARCH_FILTER = "params.model = 'a' and metrics.auc > 0.5"
SEARCH_ORDER = "metrics.auc DESC"
TOP_K = 100

Point = tuple[str, float, int, int]  # key, value, timestamp (ms), step


@dataclass(frozen=True)
class RunSpec:
    """What one benchmark run holds: 10 params, 5 tags and 5 metrics."""

    name: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]


def run_specs(count: int, seed: int, prefix: str) -> list[RunSpec]:
    """Deterministic runs: both workers build the identical list from the same seed."""
    rng = random.Random(seed)
    specs = []
    for i in range(count):
        params = {
            "model": rng.choice("abcd"),
            "lr": str(rng.choice((0.1, 0.01, 0.001, 0.0001))),
            "depth": str(rng.randint(2, 12)),
            "batch_size": str(rng.choice((32, 64, 128, 256))),
            "optimizer": rng.choice(("adam", "sgd", "rmsprop")),
            "dropout": f"{rng.random() * 0.5:.3f}",
            "seed": str(rng.randint(0, 10_000)),
            "epochs": str(rng.randint(1, 100)),
            "layers": str(rng.randint(1, 8)),
            "activation": rng.choice(("relu", "gelu", "tanh")),
        }
        tags = {
            "team": rng.choice(("fraud", "search", "ads")),
            "dataset": f"ds-{rng.randint(1, 20)}",
            "stage": rng.choice(("dev", "staging", "prod")),
            "owner": rng.choice(("ana", "bo", "chen", "dara")),
            "priority": str(rng.randint(1, 3)),
        }
        metrics = {key: rng.random() for key in METRIC_KEYS}
        specs.append(RunSpec(f"{prefix}-{i:06d}", params, tags, metrics))
    return specs


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Side(Protocol):
    """What a product must offer the workloads; each worker implements it with its API."""

    name: str

    def new_experiment(self, name: str) -> str: ...
    def new_run(self, experiment_id: str, name: str) -> str: ...
    def log_metric(self, run_id: str, key: str, value: float, step: int) -> None: ...
    def metric_entities(self, points: list[Point]) -> Any: ...
    def log_metric_entities(self, run_id: str, entities: Any) -> None: ...
    def run_entities(self, spec: RunSpec, timestamp: int) -> Any: ...
    def log_run_entities(self, run_id: str, entities: Any) -> None: ...
    def end_run(self, run_id: str) -> None: ...
    def fluent_start(self, experiment_name: str) -> None: ...
    def fluent_log_metric(self, key: str, value: float, step: int) -> None: ...
    def fluent_flush(self) -> None: ...
    def fluent_end(self) -> None: ...
    def search(
        self,
        experiment_id: str,
        filter_string: str | None,
        order_by: str,
        max_results: int,
        page_token: str | None,
    ) -> tuple[list[tuple[str, float]], str | None]: ...
    def run_data(self, run_id: str) -> tuple[dict[str, str], dict[str, float], dict[str, str]]: ...
    def seed_target(self) -> tuple[str, str]: ...  # SQLAlchemy URL, name of the run-id column


Progress = Callable[[int, int], None]


def timed(work: Callable[[], None]) -> float:
    # A collection left over from setup must not land inside the measured interval.
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def summary(unit: str, work: float, seconds: list[float], **extra: Any) -> dict[str, Any]:
    """Median of the repeats; ``throughput`` is units of work per second, higher is better."""
    median = statistics.median(seconds)
    return {
        "unit": unit,
        "work": work,
        "seconds": seconds,
        "median_s": median,
        "throughput": work / median,
        **extra,
    }


def _ticks(total: int) -> int:
    # About 20 progress events per measured loop: negligible next to the work measured.
    return max(1, total // 20)


def bench_log_metric(side: Side, calls: int, repeats: int, progress: Progress) -> dict[str, Any]:
    experiment = side.new_experiment("bench-log-metric")
    run_id = side.new_run(experiment, "log-metric")
    for step in range(20):  # warm-up: connections, statement caches, lazy imports
        side.log_metric(run_id, "warmup", 0.5, step)
    seconds = []
    tick = _ticks(calls)
    for r in range(repeats):
        base = r * calls

        def loop(base: int = base) -> None:
            for i in range(calls):
                side.log_metric(run_id, "loss", 1.0 / (i + 1), base + i)
                if i % tick == 0:
                    progress(base + i, calls * repeats)

        seconds.append(timed(loop))
    progress(calls * repeats, calls * repeats)
    return summary("calls/s", calls, seconds)


def bench_fluent(side: Side, calls: int, repeats: int, progress: Progress) -> dict[str, Any]:
    side.fluent_start("bench-fluent-warmup")
    for step in range(20):
        side.fluent_log_metric("warmup", 0.5, step)
    side.fluent_flush()
    side.fluent_end()
    seconds = []
    for r in range(repeats):
        side.fluent_start(f"bench-fluent-{r}")

        # Timed until every point is stored: buffering only counts if the flush is paid.
        def loop() -> None:
            for i in range(calls):
                side.fluent_log_metric("loss", 1.0 / (i + 1), i)
            side.fluent_flush()

        seconds.append(timed(loop))
        side.fluent_end()
        progress(r + 1, repeats)
    return summary("calls/s", calls, seconds)


def bench_log_batch(
    side: Side, batches: int, batch_size: int, repeats: int, progress: Progress
) -> dict[str, Any]:
    experiment = side.new_experiment("bench-log-batch")
    run_id = side.new_run(experiment, "log-batch")
    keys = 10
    ts = now_ms()

    def batch(number: int) -> Any:
        # 10 series advancing together, as a training loop logging 10 metrics per step.
        steps = batch_size // keys
        return side.metric_entities(
            [
                (f"m{k}", (number * steps + s) * 0.001, ts, number * steps + s)
                for s in range(steps)
                for k in range(keys)
            ]
        )

    side.log_metric_entities(run_id, batch(0))  # warm-up
    seconds = []
    for r in range(repeats):
        prepared = [batch(1 + r * batches + b) for b in range(batches)]

        def loop(prepared: list[Any] = prepared, r: int = r) -> None:
            for b, entities in enumerate(prepared):
                side.log_metric_entities(run_id, entities)
                progress(r * batches + b + 1, batches * repeats)

        seconds.append(timed(loop))
    return summary("points/s", batches * batch_size, seconds, batch_size=batch_size)


def bench_create_runs(side: Side, count: int, repeats: int, progress: Progress) -> dict[str, Any]:
    experiment = side.new_experiment("bench-create-runs")
    ts = now_ms()
    for spec in run_specs(5, seed=99, prefix="warmup"):
        run_id = side.new_run(experiment, spec.name)
        side.log_run_entities(run_id, side.run_entities(spec, ts))
        side.end_run(run_id)
    seconds = []
    tick = _ticks(count)
    for r in range(repeats):
        prepared = [
            (s.name, side.run_entities(s, ts))
            for s in run_specs(count, seed=r, prefix=f"create-{r}")
        ]

        def loop(prepared: list[tuple[str, Any]] = prepared, r: int = r) -> None:
            for i, (name, entities) in enumerate(prepared):
                run_id = side.new_run(experiment, name)
                side.log_run_entities(run_id, entities)
                side.end_run(run_id)
                if i % tick == 0:
                    progress(r * count + i, count * repeats)

        seconds.append(timed(loop))
    progress(count * repeats, count * repeats)
    return summary("runs/s", count, seconds)


def bench_search(
    side: Side, experiment_id: str, repeats: int, progress: Progress
) -> dict[str, Any]:
    def query() -> list[tuple[str, float]]:
        found, _ = side.search(experiment_id, SEARCH_FILTER, SEARCH_ORDER, TOP_K, None)
        return found

    top = query()  # warm-up, and the answer both sides must agree on
    seconds = []
    for r in range(repeats):
        seconds.append(timed(query))
        progress(r + 1, repeats)
    median = statistics.median(seconds)
    return summary(
        "queries/s", 1, seconds, latency_ms=median * 1000, results=len(top), digest=_digest(top)
    )


def scan(
    side: Side, experiment_id: str, page_size: int, on_page: Callable[[int], None] = lambda _n: None
) -> tuple[int, str]:
    """Walk every run by ``metrics.auc DESC``, page by page, checking the order holds."""
    digest = hashlib.sha256()
    count, token, last = 0, None, float("inf")
    while True:
        page, token = side.search(experiment_id, None, SEARCH_ORDER, page_size, token)
        for name, auc in page:
            if auc > last:
                raise RuntimeError(f"scan out of order at run {count}: {auc} after {last}")
            last = auc
            digest.update(name.encode())
        count += len(page)
        on_page(count)
        if token is None:
            return count, digest.hexdigest()


def bench_scan(
    side: Side, experiment_id: str, runs: int, page_size: int, repeats: int, progress: Progress
) -> dict[str, Any]:
    # Warm-up on the first page only: a full scan costs MLflow close to a minute at 10,000
    # runs, and one page already opens connections and fills statement caches.
    side.search(experiment_id, None, SEARCH_ORDER, page_size, None)
    seconds = []
    outcome: tuple[int, str] = (0, "")
    for r in range(repeats):

        def walk(r: int = r) -> None:
            nonlocal outcome
            outcome = scan(
                side,
                experiment_id,
                page_size,
                lambda n, r=r: progress(r * runs + n, runs * repeats),
            )

        seconds.append(timed(walk))
    count, digest = outcome
    if count != runs:
        raise RuntimeError(f"the scan returned {count} runs, {runs} were seeded")
    return summary("runs/s", runs, seconds, page_size=page_size, digest=digest)


def _digest(found: list[tuple[str, float]]) -> str:
    return hashlib.sha256("\n".join(name for name, _ in found).encode()).hexdigest()
