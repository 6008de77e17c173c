"""The workloads of the tracking benchmark, shared by the Heron and the MLflow worker.

This module is imported by both workers, each in its own virtualenv, so it depends on
the standard library only (SQLAlchemy, which both projects ship, is imported lazily for
seeding). Defining every workload once here, against the small ``Side`` interface, is
what guarantees that both products run exactly the same operations.

Workers speak JSON lines: the orchestrator writes one command per line on stdin, the
worker answers with progress events and then one result (or error) per command.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import statistics
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

PARAM_KEYS = (
    "model",
    "lr",
    "depth",
    "batch_size",
    "optimizer",
    "dropout",
    "seed",
    "epochs",
    "layers",
    "activation",
)
TAG_KEYS = ("team", "dataset", "stage", "owner", "priority")
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


def seed_runs(side: Side, experiment_name: str, count: int, seed: int) -> dict[str, Any]:
    """Create ``count`` runs fast, for the search workloads (not measured).

    One template run is logged through the product's own API; its rows, in whatever
    tables the product wrote them, are then cloned in bulk with each run's values. The
    product's schema is thus respected without this code knowing it, and the result is
    checked back through the API.
    """
    specs = run_specs(count, seed=seed, prefix="seed")
    experiment = side.new_experiment(experiment_name)
    template = specs[0]
    template_id = side.new_run(experiment, template.name)
    side.log_run_entities(template_id, side.run_entities(template, now_ms()))
    side.end_run(template_id)
    url, run_column = side.seed_target()
    new_ids = clone_run_rows(url, run_column, template_id, template.name, specs[1:])
    checked = [(template_id, template)] + [
        (new_ids[i - 1], specs[i]) for i in sorted({1, count // 2, count - 1}) if i >= 1
    ]
    for run_id, spec in checked:
        params, metrics, tags = side.run_data(run_id)
        user_tags = {k: v for k, v in tags.items() if k in spec.tags}
        if (params, {k: metrics.get(k) for k in spec.metrics}, user_tags) != (
            spec.params,
            spec.metrics,
            spec.tags,
        ):
            raise RuntimeError(f"seeded run {spec.name} does not read back as written")
    return {"experiment_id": experiment, "runs": count, "url": url}


def clone_run_rows(
    url: str, run_column: str, template_id: str, template_name: str, specs: list[RunSpec]
) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    values = {}
    for spec in specs:
        values[spec.name] = {**spec.params, **spec.tags, **spec.metrics}
    new_ids = [uuid.uuid4().hex for _ in specs]
    with engine.begin() as conn:
        for table in meta.sorted_tables:  # parents (runs) before children
            if run_column not in table.c:
                continue
            rows = [
                dict(r._mapping)
                for r in conn.execute(table.select().where(table.c[run_column] == template_id))
            ]
            if not rows:
                continue
            pk = list(table.primary_key.columns)
            drop = pk[0].name if len(pk) == 1 and pk[0].name != run_column else None
            out = []
            for i, (spec, run_id) in enumerate(zip(specs, new_ids, strict=True)):
                for row in rows:
                    out.append(
                        _clone_row(
                            row,
                            drop,
                            run_column,
                            template_id,
                            template_name,
                            run_id,
                            spec.name,
                            i + 1,
                            values[spec.name],
                        )
                    )
            for start in range(0, len(out), 20_000):
                conn.execute(table.insert(), out[start : start + 20_000])
    engine.dispose()
    return new_ids


def _clone_row(
    row: dict[str, Any],
    drop: str | None,
    run_column: str,
    template_id: str,
    template_name: str,
    run_id: str,
    name: str,
    offset: int,
    values: dict[str, Any],
) -> dict[str, Any]:
    new = {}
    for column, value in row.items():
        if column == drop:  # a surrogate key (e.g. metrics.id): let the database number it
            continue
        if isinstance(value, str):
            value = name if value == template_name else value.replace(template_id, run_id)
        new[column] = value
    new[run_column] = run_id
    if "key" in new and "value" in new and new["key"] in values:
        wanted = values[new["key"]]
        new["value"] = str(wanted) if isinstance(row["value"], str) else wanted
    for column in ("start_time", "end_time"):  # distinct times, as real runs have
        if isinstance(new.get(column), int):
            new[column] += offset
    return new


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
    scan(side, experiment_id, page_size)  # warm-up
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


# -- the worker side of the JSON-lines protocol ---------------------------------------


def protocol_stream() -> TextIO:
    """Reserve the real stdout for the protocol; stray prints of libraries go to stderr."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return out


def serve(side_factory: Callable[[dict[str, Any]], Side]) -> None:
    """Answer the orchestrator's commands until stdin closes."""
    out = protocol_stream()

    def emit(**event: Any) -> None:
        out.write(json.dumps(event) + "\n")

    config = json.loads(sys.stdin.readline())
    side = side_factory(config)
    emit(event="ready", versions=getattr(side, "versions", {}))
    for line in sys.stdin:
        command = json.loads(line)
        task = command["task"]

        def progress(done: int, total: int, task: str = task) -> None:
            emit(event="progress", task=task, done=done, total=total)

        try:
            emit(event="result", task=task, result=run_command(side, command, progress))
        except Exception as exc:
            emit(
                event="error",
                task=task,
                error=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(),
            )


def run_command(side: Side, command: dict[str, Any], progress: Progress) -> dict[str, Any]:
    task = command["task"]
    if task == "log_metric":
        return bench_log_metric(side, command["calls"], command["repeats"], progress)
    if task == "fluent":
        return bench_fluent(side, command["calls"], command["repeats"], progress)
    if task == "log_batch":
        return bench_log_batch(
            side, command["batches"], command["batch_size"], command["repeats"], progress
        )
    if task == "create_runs":
        return bench_create_runs(side, command["runs"], command["repeats"], progress)
    if task == "seed":
        return seed_runs(side, command["experiment"], command["runs"], command["seed"])
    if task == "search":
        return bench_search(side, command["experiment_id"], command["repeats"], progress)
    if task == "scan":
        return bench_scan(
            side,
            command["experiment_id"],
            command["runs"],
            command["page_size"],
            command["repeats"],
            progress,
        )
    raise ValueError(f"unknown task {task!r}")
