"""MLflow's client against MLflow's own server and against a Heron server, in one run.

    .venv/bin/python benchmarks/bench_mlflow_compat.py               # needs setup_mlflow.sh
    .venv/bin/python benchmarks/bench_mlflow_compat.py --quick --heron-only --backends sqlite

The same driver (this script with ``--drive URL``, the MLflow 3.17.2 client from .venv)
runs the same workloads against each server in turn; only the server differs. Servers
get the same worker count and a fresh database per backend (SQLite, PostgreSQL). The
table reports throughputs and the Heron/MLflow ratio per workload.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_MLFLOW_PYTHON = HERE / ".venv-mlflow" / "bin" / "python"
DEFAULT_OUTPUT = HERE / "results" / "mlflow_compat.json"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 1000  # metrics per log_batch, MLflow's limit

SIZES = {
    "default": {
        "calls": 300,
        "batches": 20,
        "create_runs": 100,
        "runs": 1000,
        "searches": 20,
        "versions": 100,
        "alias_reads": 300,
    },
    "quick": {
        "calls": 20,
        "batches": 2,
        "create_runs": 5,
        "runs": 20,
        "searches": 2,
        "versions": 5,
        "alias_reads": 20,
    },
}
# workload -> what its throughput counts
UNITS = {
    "log_metric": "calls/s",
    # The same calls without MLflow's client (see bare_http_calls): what the server costs.
    "log_metric_bare_http": "calls/s",
    "log_batch": "points/s",
    "create_runs": "runs/s",
    "search_runs": "searches/s",
    "get_metric_history": "points/s",
    "create_model_version": "versions/s",
    "get_version_by_alias": "reads/s",
}


# -- the driver: MLflow's client against one server --------------------------------------


def drive(url: str, sizes: dict[str, int], database: str | None) -> dict[str, dict[str, float]]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(url)
    experiment_id = client.create_experiment(f"bench-{time.time_ns()}")
    results: dict[str, dict[str, float]] = {}

    def timed(name: str, count: int, work: Any) -> None:
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        results[name] = {"count": count, "seconds": seconds, "throughput": count / seconds}

    run_id = client.create_run(experiment_id).info.run_id

    def single_metrics() -> None:
        for i in range(sizes["calls"]):
            client.log_metric(run_id, "single", float(i), step=i)

    timed("log_metric", sizes["calls"], single_metrics)
    timed(
        "log_metric_bare_http",
        sizes["calls"],
        lambda: bare_http_calls(url, run_id, sizes["calls"]),
    )

    now = int(time.time() * 1000)

    def batches() -> None:
        for b in range(sizes["batches"]):
            points = [Metric("loss", 1.0 / (i + 1), now + i, b * BATCH + i) for i in range(BATCH)]
            client.log_batch(run_id, metrics=points)

    timed("log_batch", sizes["batches"] * BATCH, batches)

    def create_runs() -> None:
        for _ in range(sizes["create_runs"]):
            client.create_run(experiment_id)

    timed("create_runs", sizes["create_runs"], create_runs)

    # Runs to search: a metric, a param and a tag each (not timed).
    search_experiment = client.create_experiment(f"bench-search-{time.time_ns()}")
    for i in range(sizes["runs"]):
        seeded = client.create_run(search_experiment, tags={"parity": str(i % 2)})
        client.log_batch(
            seeded.info.run_id,
            metrics=[Metric("auc", (i % 10) / 10, now, 0)],
            params=[Param("i", str(i))],
        )

    if database:
        from bench_server_procs import analyze

        # Fresh planner statistics after the bulk load, as autovacuum would give a
        # database in use (and as bench_server.py does), for both servers alike.
        analyze(database)

    def searches() -> None:
        for _ in range(sizes["searches"]):
            found = client.search_runs(
                [search_experiment],
                filter_string="metrics.auc > 0.5 and tags.parity = '0'",
                order_by=["metrics.auc DESC"],
                max_results=100,
            )
            assert len(found) > 0

    timed("search_runs", sizes["searches"], searches)

    points = sizes["batches"] * BATCH

    def history() -> None:
        assert len(client.get_metric_history(run_id, "loss")) == points

    timed("get_metric_history", points, history)

    # The registry: versions of one model from a run holding an MLflow model folder.
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "MLmodel").write_text("flavors: {}\n")
        client.log_artifact(run_id, str(Path(folder, "MLmodel")), "model")
    model_name = f"bench-model-{time.time_ns()}"
    client.create_registered_model(model_name)

    def register() -> None:
        for _ in range(sizes["versions"]):
            client.create_model_version(model_name, f"runs:/{run_id}/model", run_id)

    timed("create_model_version", sizes["versions"], register)
    client.set_registered_model_alias(model_name, "champion", "1")

    def alias_reads() -> None:
        for _ in range(sizes["alias_reads"]):
            assert client.get_model_version_by_alias(model_name, "champion").version == "1"

    timed("get_version_by_alias", sizes["alias_reads"], alias_reads)
    return results


def bare_http_calls(url: str, run_id: str, count: int) -> None:
    """``count`` log-metric requests as MLflow's client sends them (same route, same JSON),
    from a minimal client: http.client on one kept-alive connection, headers and body in
    one send. The difference to ``log_metric`` is MLflow's client's own cost per call."""
    import http.client

    host = url.split("//", 1)[1]
    connection = http.client.HTTPConnection(host)
    for i in range(count):
        body = (
            f'{{"run_id": "{run_id}", "run_uuid": "{run_id}", "key": "bare", '
            f'"value": {float(i)}, "timestamp": {int(time.time() * 1000)}, "step": {i}}}'
        )
        for attempt in (1, 2):
            try:
                connection.request(
                    "POST",
                    "/api/2.0/mlflow/runs/log-metric",
                    body.encode(),
                    {"Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # A server may close a kept-alive connection; MLflow's client reconnects too.
                connection.close()
                connection = http.client.HTTPConnection(host)
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeError(f"log-metric answered {response.status}")
    connection.close()


# -- the orchestrator ----------------------------------------------------------------------


def _server(side: str, args: argparse.Namespace, store: str, home: Path) -> Any:
    from bench_server_procs import Server, free_port
    from bench_tracking import worker_env

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
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return Server(side, command, ready, port, home / "server.log", env)


def measure(side: str, backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from bench_server_procs import drop_database, recreate_database
    from bench_tracking import worker_env

    home = workdir / f"{backend}-{side}"
    home.mkdir(parents=True)
    if backend == "sqlite":
        store = f"sqlite:///{home / 'store.db'}"
    else:
        store = recreate_database(args.postgres_url, f"{side}_compat_bench")
    server = _server(side, args, store, home)
    try:
        server.wait_ready()
        env = worker_env("mlflow")  # the same client settings against both servers
        done = subprocess.run(
            [sys.executable, __file__, "--drive", server.url, "--sizes", json.dumps(args.sizes)]
            + ([] if backend == "sqlite" else ["--database", store]),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"driver against {side} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        server.stop()
        if backend != "sqlite":
            drop_database(args.postgres_url, f"{side}_compat_bench")


def render(results: dict[str, Any]) -> None:
    for backend, rows in results["backends"].items():
        print(f"\n{backend}")
        print(f"  {'workload':<20} {'heron':>14} {'mlflow':>14} {'ratio':>8}  unit")
        for workload, unit in UNITS.items():
            row = rows[workload]
            heron = row["heron"]["throughput"]
            mlflow = row.get("mlflow", {}).get("throughput")
            ratio = f"{row['ratio']:.1f}x" if "ratio" in row else "-"
            shown = f"{mlflow:14.1f}" if mlflow is not None else f"{'-':>14}"
            print(f"  {workload:<20} {heron:14.1f} {shown} {ratio:>8}  {unit}")
        print("  per log_metric call (ms): MLflow's client, bare HTTP, the client's own share")
        for side in ("heron", "mlflow"):
            if side not in rows["log_metric"]:
                continue
            client_ms = 1000 / rows["log_metric"][side]["throughput"]
            bare_ms = 1000 / rows["log_metric_bare_http"][side]["throughput"]
            print(f"    {side:<8} {client_ms:8.2f} {bare_ms:8.2f} {client_ms - bare_ms:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--heron-only", action="store_true", help="skip MLflow's server")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--mlflow-python", default=str(DEFAULT_MLFLOW_PYTHON))
    parser.add_argument(
        "--postgres-url", default=os.environ.get("HERON_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.drive:
        print(json.dumps(drive(args.drive, json.loads(args.sizes), args.database)))
        return

    sys.path.insert(0, str(HERE))
    args.sizes = SIZES["quick" if args.quick else "default"]
    sides = ["heron"] if args.heron_only else ["heron", "mlflow"]
    results: dict[str, Any] = {
        "benchmark": "mlflow_compat",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(),
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "server_workers": args.server_workers,
        "sizes": args.sizes | {"batch": BATCH},
        "backends": {},
    }
    workdir = Path(tempfile.mkdtemp(prefix="bench-mlflow-compat-"))
    try:
        for backend in args.backends.split(","):
            measured = {side: measure(side, backend, args, workdir) for side in sides}
            rows: dict[str, Any] = {}
            for workload in UNITS:
                row = {side: measured[side][workload] for side in sides}
                if "mlflow" in row:
                    row["ratio"] = row["heron"]["throughput"] / row["mlflow"]["throughput"]
                rows[workload] = row
            results["backends"][backend] = rows
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    render(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {args.output}")


if __name__ == "__main__":
    main()
