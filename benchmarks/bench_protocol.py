"""The worker side of the benchmark's JSON-lines protocol.

The orchestrator (bench_tracking.py) writes one command per line on a worker's stdin;
the worker answers on stdout with progress events, then one result or error per command.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO

from bench_common import (
    Progress,
    Side,
    bench_create_runs,
    bench_fluent,
    bench_log_batch,
    bench_log_metric,
    bench_scan,
    bench_search,
)
from bench_seed import seed_runs


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
