"""Tracking benchmark: Heron vs MLflow, both embedded on SQLite, same workloads, one run.

    .venv/bin/python benchmarks/bench_tracking.py            # needs benchmarks/setup_mlflow.sh
    .venv/bin/python benchmarks/bench_tracking.py --quick --heron-only

Each product runs in a worker process of its own virtualenv (heron_worker.py with this
interpreter, mlflow_worker.py with benchmarks/.venv-mlflow/bin/python); the workloads
themselves are defined once, in bench_common.py. Workloads alternate between the two
workers and never overlap, so that on a small noisy machine neither steals the other's
cores and slow drifts in the machine's speed hit both sides alike.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench_report import finish, render

HERE = Path(__file__).resolve().parent
DEFAULT_MLFLOW_PYTHON = HERE / ".venv-mlflow" / "bin" / "python"
DEFAULT_OUTPUT = HERE / "results" / "tracking.json"

# Sizes: the defaults take a few minutes on 2 cores (MLflow's side dominates); --quick
# is a smoke run of a few seconds. Any of them can be overridden by its flag.
SIZES = {
    "default": {
        "calls": 1000,
        "batches": 20,
        "create_runs": 200,
        "runs": 10_000,
        "mem_small_runs": 2000,
        "page_size": 1000,
        "repeats": 3,
        "search_repeats": 7,
        "scan_repeats": 2,
    },
    "quick": {
        "calls": 40,
        "batches": 2,
        "create_runs": 10,
        "runs": 300,
        "mem_small_runs": 60,
        "page_size": 100,
        "repeats": 2,
        "search_repeats": 3,
        "scan_repeats": 1,
    },
}
BATCH_SIZE = 1000  # metrics per log_batch call: MLflow's maximum per request


@dataclass(frozen=True)
class Workload:
    key: str
    task: str
    title: str
    target: float | None  # required MLflow/Heron time ratio, None for informational rows
    searches: bool = False  # reads the seeded runs


WORKLOADS = (
    Workload("a", "log_metric", "(a) log_metric, sync", 30),
    Workload("a+", "fluent", "(a+) fluent log_metric", None),
    Workload("b", "log_batch", f"(b) log_batch, {BATCH_SIZE}/call", 30),
    Workload("c", "create_runs", "(c) create full runs", 30),
    Workload("d1", "search", "(d1) search, top 100", 10, searches=True),
    Workload("d2", "scan", "(d2) scan all, paginated", 10, searches=True),
)


class WorkerError(RuntimeError):
    pass


class Worker:
    """A worker process speaking bench_common's JSON-lines protocol."""

    def __init__(
        self, side: str, python: str, script: str, workdir: Path, env: dict[str, str]
    ) -> None:
        self.side = side
        workdir.mkdir(parents=True)
        self.log_path = workdir / "worker.log"
        self._log: IO[str] = self.log_path.open("w")
        # cwd is the temp dir too: whatever a product writes by default lands there.
        self.proc = subprocess.Popen(
            [python, str(HERE / script), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=workdir,
            env=env,
        )
        self._send({"workdir": str(workdir)})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _events(self) -> Any:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            yield json.loads(line)
        raise WorkerError(f"the {self.side} worker exited ({self.proc.wait()}):\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def ready(self) -> dict[str, str]:
        event = next(self._events())
        versions: dict[str, str] = event["versions"]
        return versions

    def run(self, command: dict[str, Any], progress: Callable[[int, int], None]) -> Any:
        self._send(command)
        for event in self._events():
            if event["event"] == "progress":
                progress(event["done"], event["total"])
            elif event["event"] == "result":
                return event["result"]
            elif event["event"] == "error":
                raise WorkerError(
                    f"{self.side} failed on {command['task']}: {event['error']}\n"
                    f"{event['traceback']}"
                )
        return None

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # the worker may have died already
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def worker_env(side: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HERON_TRACKING_URI", "MLFLOW_TRACKING_URI", "PYTHONPATH")
    }
    # Both products look up the git commit of the calling script, which lives in this
    # repository: never let that `git status` take the index lock under a developer.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    if side == "mlflow":
        # No network here: telemetry must not add timeouts; async logging stays off so
        # that MLflow's log calls are the synchronous ones being measured.
        env.update(
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
            MLFLOW_ENABLE_ASYNC_LOGGING="false",
            GIT_PYTHON_REFRESH="quiet",
        )
    return env


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--heron-only", action="store_true", help="skip MLflow")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results")
    parser.add_argument(
        "--mlflow-python",
        default=str(DEFAULT_MLFLOW_PYTHON),
        help="interpreter of MLflow's virtualenv",
    )
    parser.add_argument(
        "--only",
        default=",".join(w.key for w in WORKLOADS),
        help="workloads to run, e.g. b or b,d1 (default: all)",
    )
    sizes = parser.add_argument_group("sizes (defaults depend on --quick)")
    sizes.add_argument("--runs", type=int, help="runs seeded for the search workloads (d)")
    sizes.add_argument("--calls", type=int, help="log_metric calls per repeat (a)")
    sizes.add_argument("--batches", type=int, help="log_batch calls per repeat (b)")
    sizes.add_argument("--create-runs", type=int, help="runs created per repeat (c)")
    sizes.add_argument("--mem-small-runs", type=int, help="smaller scan for the memory check")
    sizes.add_argument("--page-size", type=int, help="page size of the full scan (d2)")
    sizes.add_argument("--repeats", type=int, help="repeats of (a)-(c); the median is kept")
    sizes.add_argument("--search-repeats", type=int, help="repeats of the search (d1)")
    sizes.add_argument("--scan-repeats", type=int, help="repeats of the full scan (d2)")
    args = parser.parse_args(argv)
    small_given = args.mem_small_runs is not None
    for name, value in SIZES["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        elif getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    args.only = {k.strip() for k in args.only.split(",") if k.strip()}
    if not args.only or args.only - {w.key for w in WORKLOADS}:
        parser.error(f"--only takes a list of {', '.join(w.key for w in WORKLOADS)}")
    if args.mem_small_runs >= args.runs:
        if small_given:
            parser.error("--mem-small-runs must be smaller than --runs")
        # Only --runs was lowered: keep the memory check's 1:5 proportion.
        args.mem_small_runs = max(1, args.runs // 5)
    return args


def command_for(
    workload: Workload, args: argparse.Namespace, experiment_id: str | None
) -> dict[str, Any]:
    sizes = {
        "log_metric": {"calls": args.calls, "repeats": args.repeats},
        "fluent": {"calls": args.calls, "repeats": args.repeats},
        "log_batch": {"batches": args.batches, "batch_size": BATCH_SIZE, "repeats": args.repeats},
        "create_runs": {"runs": args.create_runs, "repeats": args.repeats},
        "search": {"experiment_id": experiment_id, "repeats": args.search_repeats},
        "scan": {
            "experiment_id": experiment_id,
            "runs": args.runs,
            "page_size": args.page_size,
            "repeats": args.scan_repeats,
        },
    }[workload.task]
    return {"task": workload.task, **sizes}


def seed_command(experiment: str, runs: int, seed: int) -> dict[str, Any]:
    # The same seed gives both products the identical runs (see bench_common.run_specs).
    return {"task": "seed", "experiment": experiment, "runs": runs, "seed": seed}


def memscan(uri: str, experiment_id: str, page_size: int, workdir: Path) -> dict[str, Any]:
    """Heron's memory for one full scan, in a fresh process so its peak is its own."""
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "heron_worker.py"),
            "memscan",
            uri,
            experiment_id,
            str(page_size),
        ],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=worker_env("heron"),
        check=False,
    )
    if done.returncode != 0:
        raise WorkerError(f"the Heron memory scan failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_benchmark(args: argparse.Namespace, console: Console, workdir: Path) -> dict[str, Any]:
    sides = ["heron"] if args.heron_only else ["heron", "mlflow"]
    pythons = {"heron": sys.executable, "mlflow": args.mlflow_python}
    workers = {
        side: Worker(side, pythons[side], f"{side}_worker.py", workdir / side, worker_env(side))
        for side in sides
    }
    results: dict[str, Any] = {"workloads": {}, "versions": {}}
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as bar:
            # Both start at once (imports, schema creation): nothing is measured yet.
            for side, worker in workers.items():
                results["versions"][side] = worker.ready()

            def step(label: str, side: str, command: dict[str, Any]) -> Any:
                task = bar.add_task(f"{label} [dim]{side}[/]", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                outcome = workers[side].run(command, progress)
                total = bar.tasks[task].total or 1  # a task without progress events shows 1/1
                bar.update(task, completed=total, total=total)
                return outcome

            seeded: dict[str, dict[str, Any]] = {}
            for workload in WORKLOADS:
                if workload.key not in args.only:
                    continue
                if workload.searches and not seeded:
                    for side in sides:
                        seeded[side] = step(
                            f"seeding {args.runs:,} runs (not timed)",
                            side,
                            seed_command("bench-search", args.runs, seed=1),
                        )
                    seeded["small"] = step(
                        f"seeding {args.mem_small_runs:,} runs (not timed)",
                        "heron",
                        seed_command("bench-search-small", args.mem_small_runs, seed=2),
                    )
                row: dict[str, Any] = {"title": workload.title, "target": workload.target}
                for side in sides:
                    experiment = seeded.get(side, {}).get("experiment_id")
                    row[side] = step(workload.title, side, command_for(workload, args, experiment))
                results["workloads"][workload.key] = row
            if not seeded:  # --only without the search workloads
                return results
            memory_task = bar.add_task("Heron scan memory, fresh processes", total=2)
            results["memory"] = []
            for seed in (seeded["small"], seeded["heron"]):
                results["memory"].append(
                    memscan(seed["url"], seed["experiment_id"], args.page_size, workdir)
                )
                bar.advance(memory_task)
    finally:
        for worker in workers.values():
            worker.close()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:  # piped into a log: keep table rows on one line each
        console.width = max(console.width, 120)
    if not args.heron_only and not Path(args.mlflow_python).exists():
        console.print(
            f"[red]no MLflow interpreter at {args.mlflow_python}[/]: run "
            "`bash benchmarks/setup_mlflow.sh` first, or pass --heron-only"
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="heron-bench-") as temp:
        try:
            results = run_benchmark(args, console, Path(temp))
        except WorkerError as exc:
            console.print(f"[red]benchmark failed[/]: {exc}", markup=False)
            return 1
    problems = finish(results, args.heron_only)
    results.update(
        benchmark="tracking",
        date=dt.datetime.now(dt.timezone.utc).isoformat(),
        quick=args.quick,
        heron_only=args.heron_only,
        machine={"cpus": os.cpu_count(), "platform": platform.platform()},
        sizes={name: getattr(args, name) for name in SIZES["default"]} | {"batch_size": BATCH_SIZE},
    )
    render(results, console)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"results written to {args.output}")
    for problem in problems:
        console.print(f"[red]comparison void:[/] {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
