"""Server benchmark: a Heron server vs an MLflow server, each driven by its official client.

    .venv/bin/python benchmarks/bench_server.py                # needs benchmarks/setup_mlflow.sh
    .venv/bin/python benchmarks/bench_server.py --quick --heron-only --backends sqlite

For each backend (SQLite, PostgreSQL) both servers run on free loopback ports with the
same number of worker processes. Each product's client runs in a worker process of its
own virtualenv (heron_server_worker.py: heron.Client over HTTP; mlflow_server_worker.py:
MlflowClient with an http:// tracking URI). Workloads alternate between the two sides and
never overlap; the data is generated from the same seeds on both sides.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench_server_common import CONFIG_ENV
from bench_server_procs import (
    RssSampler,
    Server,
    ServerError,
    analyze,
    drop_database,
    free_port,
    recreate_database,
)
from bench_server_report import finish, render
from bench_tracking import BATCH_SIZE, Worker, WorkerError, command_for, seed_command, worker_env
from bench_tracking import WORKLOADS as TRACKING_WORKLOADS

HERE = Path(__file__).resolve().parent
DEFAULT_MLFLOW_PYTHON = HERE / ".venv-mlflow" / "bin" / "python"
DEFAULT_OUTPUT = HERE / "results" / "server.json"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")
ALL_KEYS = ("a", "b", "c", "d", "e", "f", "artifacts")

SIZES = {
    "default": {
        "calls": 200,
        "batches": 10,
        "create_runs": 40,
        "runs": 10_000,
        "history_points": 1_000_000,
        "chart_points": 1000,
        "repeats": 3,
        "search_repeats": 5,
        "history_repeats": 1,
        "writers": "1,2,4,8",
        "writer_seconds": 5.0,
        "artifact_mb": 1024,
    },
    "quick": {
        "calls": 30,
        "batches": 2,
        "create_runs": 5,
        "runs": 200,
        "history_points": 5000,
        "chart_points": 1000,
        "repeats": 1,
        "search_repeats": 2,
        "history_repeats": 1,
        "writers": "1,2",
        "writer_seconds": 0.5,
        "artifact_mb": 16,
    },
}


@dataclass(frozen=True)
class Workload:
    key: str
    task: str
    title: str
    target: float | None
    mlflow: bool = True  # False: the MLflow figure is another row's (the chart vs full fetch)


def workloads(args: argparse.Namespace) -> tuple[Workload, ...]:
    return (
        Workload("a", "log_metric", "(a) log_metric, sync", 30),
        Workload("b", "log_batch", f"(b) log_batch, {BATCH_SIZE}/call", 30),
        Workload("c", "create_runs", "(c) runs: create + 20 values + end", 30),
        Workload("d", "search", f"(d) search {args.runs:,} runs, top 100", 10),
        Workload("e", "history", f"(e) history {args.history_points:,} pts, paged", 10),
        Workload(
            "e+",
            "chart",
            f"(e) chart: Heron {args.chart_points:,}-pt downsample vs MLflow full",
            10,
            mlflow=False,
        ),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--heron-only", action="store_true", help="skip MLflow")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="sqlite,postgresql")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results")
    parser.add_argument("--mlflow-python", default=str(DEFAULT_MLFLOW_PYTHON))
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="admin connection")
    parser.add_argument(
        "--server-workers", type=int, default=os.cpu_count() or 2, help="for both servers"
    )
    parser.add_argument(
        "--only",
        default=",".join(ALL_KEYS),
        help="what to run, e.g. b,d,e (default: all; e includes the chart row, f is the "
        "concurrent writers, artifacts the server memory check)",
    )
    sizes = parser.add_argument_group("sizes (defaults depend on --quick)")
    for name, value in SIZES["default"].items():
        flag = "--" + name.replace("_", "-")
        sizes.add_argument(flag, type=type(value), help=f"default {value}")
    args = parser.parse_args(argv)
    for name, value in SIZES["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or set(args.backends) - set(BACKENDS):
        parser.error(f"--backends takes a list of {', '.join(BACKENDS)}")
    args.only = {k.strip() for k in args.only.split(",") if k.strip()}
    if not args.only or args.only - set(ALL_KEYS):
        parser.error(f"--only takes a list of {', '.join(ALL_KEYS)}")
    if "artifacts" not in args.only:
        args.artifact_mb = 0
    args.writer_levels = sorted({int(n) for n in str(args.writers).split(",")})
    if args.writer_levels[0] < 1:
        parser.error("--writers takes counts of at least 1, e.g. 1,2,4,8")
    if args.history_points < 2 * BATCH_SIZE or args.history_points % BATCH_SIZE:
        parser.error(f"--history-points must be a multiple of {BATCH_SIZE}, at least 2,000")
    if not 2 <= args.chart_points <= args.history_points:
        parser.error("--chart-points must be between 2 and --history-points")
    for name in ("calls", "batches", "create_runs", "runs", "repeats", "search_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    args.page_size = args.scan_repeats = 1  # bench_tracking's scan sizes: unused here
    return args


def start_servers(
    args: argparse.Namespace, backend: str, sides: list[str], workdir: Path
) -> dict[str, tuple[Server, str]]:
    """Both servers on fresh stores; for each, the database URL its worker seeds through."""
    started: dict[str, tuple[Server, str]] = {}
    try:
        for side in sides:
            started[side] = start_server(args, backend, side, workdir / f"{side}-server")
        for server, _ in started.values():
            server.wait_ready()
    except BaseException:
        stop_servers(args, backend, started, sides)
        raise
    return started


def start_server(
    args: argparse.Namespace, backend: str, side: str, home: Path
) -> tuple[Server, str]:
    home.mkdir(parents=True)
    if backend == "sqlite":
        store = seed = f"sqlite:///{home / f'{side}.db'}"
    else:
        store = recreate_database(args.postgres_url, f"{side}_bench")
        # Both venvs seed through psycopg 3 (MLflow's server uses it too: SQLAlchemy
        # 2.1's default driver; setup_mlflow.sh installs it).
        seed = store.replace("postgresql://", "postgresql+psycopg://", 1)
    port = free_port()
    common = ["--backend-store-uri", store, "--artifacts-destination", str(home / "artifacts")]
    common += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(args.server_workers)]
    env = worker_env(side)
    if side == "heron":
        command = [str(Path(sys.executable).parent / "heron"), "server", *common]
        ready = "/ready"
    else:
        command = [str(Path(args.mlflow_python).parent / "mlflow"), "server", *common]
        ready = "/health"
        # Its background job runner (huey consumers) has nothing to do with tracking:
        # off, so that it takes no CPU from either side during the measurements.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return Server(side, command, ready, port, home / "server.log", env), seed


def stop_servers(
    args: argparse.Namespace,
    backend: str,
    servers: dict[str, tuple[Server, str]],
    sides: list[str] | None = None,
) -> None:
    for server, _ in servers.values():
        server.stop()
    if backend == "postgresql":
        for side in sides or list(servers):
            drop_database(args.postgres_url, f"{side}_bench")


def start_worker(
    side: str, args: argparse.Namespace, server: Server, seed: str, home: Path
) -> Worker:
    python = sys.executable if side == "heron" else args.mlflow_python
    env = worker_env(side)
    config = {"url": server.url, "seed_url": seed, "server_pid": server.proc.pid}
    env[CONFIG_ENV] = json.dumps(config)
    return Worker(side, python, f"{side}_server_worker.py", home, env)


def run_backend(
    args: argparse.Namespace, backend: str, bar: Progress, workdir: Path, versions: dict[str, Any]
) -> dict[str, Any]:
    sides = ["heron"] if args.heron_only else ["heron", "mlflow"]
    label = f"[cyan]{backend}[/]"
    boot = bar.add_task(f"{label} starting servers", total=None)
    servers = start_servers(args, backend, sides, workdir)
    bar.update(boot, completed=1, total=1)
    workers: dict[str, Worker] = {}
    out: dict[str, Any] = {"workloads": {}, "writers": {}}
    try:
        for side in sides:
            server, seed = servers[side]
            workers[side] = start_worker(side, args, server, seed, workdir / f"{side}-client")
        for side, worker in workers.items():
            versions[side] = worker.ready()

        def step(title: str, side: str, command: dict[str, Any]) -> Any:
            task = bar.add_task(f"{label} {title} [dim]{side}[/]", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = workers[side].run(command, progress)
            total = bar.tasks[task].total or 1
            bar.update(task, completed=total, total=total)
            return result

        seeded: dict[str, Any] = {}
        for work in workloads(args):
            if work.key.rstrip("+") not in args.only:
                continue
            if work.key == "d":
                for side in sides:
                    seeded[side] = step(
                        f"seeding {args.runs:,} runs (not timed)",
                        side,
                        seed_command("bench-search", args.runs, seed=1),
                    )
            if work.key == "e":
                for side in sides:
                    seeded[side] = step(
                        f"seeding {args.history_points:,} points (not timed)",
                        side,
                        {"task": "seed_history", "points": args.history_points},
                    )
            if work.key in ("d", "e") and backend == "postgresql":
                for side in sides:
                    analyze(servers[side][1])
            row: dict[str, Any] = {"title": work.title, "target": work.target}
            for side in sides if work.mlflow else ["heron"]:
                row[side] = step(work.title, side, command(work, args, seeded.get(side)))
            if not work.mlflow and "mlflow" in sides:
                row["mlflow"] = out["workloads"]["e"]["mlflow"]
            out["workloads"][work.key] = row
        for side in sides if "f" in args.only else []:
            out["writers"][side] = step(
                f"(f) writers {args.writers}",
                side,
                {"task": "writers", "levels": args.writer_levels, "seconds": args.writer_seconds},
            )
    finally:
        for worker in workers.values():
            worker.close()
        stop_servers(args, backend, servers)
    return out


def command(work: Workload, args: argparse.Namespace, seeded: dict[str, Any] | None) -> Any:
    if work.task in ("history", "chart"):
        assert seeded is not None
        return {
            "task": work.task,
            "run_id": seeded["run_id"],
            "points": args.history_points,
            "max_points": args.chart_points,
            "repeats": args.history_repeats,
        }
    experiment = seeded["experiment_id"] if seeded else None
    tracking = next(w for w in TRACKING_WORKLOADS if w.task == work.task)
    return command_for(tracking, args, experiment)


def run_artifacts(
    args: argparse.Namespace, backend: str, bar: Progress, workdir: Path
) -> dict[str, Any]:
    """Heron server memory while a large file goes up and comes back, on a fresh server."""
    home = workdir / "artifacts-test"
    servers = start_servers(args, backend, ["heron"], home)
    server, seed = servers["heron"]
    size = args.artifact_mb * 2**20
    task = bar.add_task(f"[cyan]{backend}[/] artifacts {args.artifact_mb:,} MiB up+down", total=3)
    worker: Worker | None = None
    try:
        worker = start_worker("heron", args, server, seed, home / "client")
        worker.ready()
        prepared = worker.run(
            {"task": "artifacts", "phase": "prepare", "bytes": size, "dir": str(home)},
            lambda _d, _t: None,
        )
        bar.advance(task)
        with RssSampler(server) as sampler:
            result = worker.run(
                {"task": "artifacts", "phase": "stream", **prepared},
                lambda done, _t: bar.update(task, completed=1 + done),
            )
        result |= sampler.result() | {"backend": backend, "server_workers": args.server_workers}
    finally:
        if worker is not None:
            worker.close()
        stop_servers(args, backend, servers)
        shutil.rmtree(home, ignore_errors=True)  # the stored copy too
    return result


def run_benchmark(args: argparse.Namespace, console: Console, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"versions": {}, "backends": {}}
    columns = (
        TextColumn("{task.description:<58}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        for backend in args.backends:
            results["backends"][backend] = run_backend(
                args, backend, bar, workdir / backend, results["versions"]
            )
        if args.artifact_mb > 0:
            results["artifacts"] = run_artifacts(args, args.backends[0], bar, workdir)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:  # piped into a log: keep table rows on one line each
        console.width = max(console.width, 130)
    if not args.heron_only and not Path(args.mlflow_python).exists():
        console.print(
            f"[red]no MLflow interpreter at {args.mlflow_python}[/]: run "
            "`bash benchmarks/setup_mlflow.sh` first, or pass --heron-only"
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="heron-bench-server-") as temp:
        try:
            results = run_benchmark(args, console, Path(temp))
        except (WorkerError, ServerError) as exc:
            console.print("[red]benchmark failed:[/]", end=" ")
            console.print(str(exc), markup=False, highlight=False)
            return 1
    problems = finish(results, args)
    results.update(
        benchmark="server",
        date=dt.datetime.now(dt.timezone.utc).isoformat(),
        quick=args.quick,
        heron_only=args.heron_only,
        machine={"cpus": os.cpu_count(), "platform": platform.platform()},
        server_workers=args.server_workers,
        sizes={name: getattr(args, name) for name in SIZES["default"]} | {"batch": BATCH_SIZE},
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
