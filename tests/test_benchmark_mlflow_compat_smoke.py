"""Smoke test of benchmarks/bench_mlflow_compat.py: its quick Heron-only mode runs and reports.

It drives MLflow's client (a test dependency) against a real `heron server` on a free
loopback port; --heron-only needs no MLflow server, --backends sqlite no PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_mlflow_compat.py"
WORKLOADS = {
    "log_metric",
    "log_metric_bare_http",
    "log_batch",
    "create_runs",
    "search_runs",
    "get_metric_history",
    "create_model_version",
    "get_version_by_alias",
}


def test_quick_heron_only_run_reports_every_workload(tmp_path: Path) -> None:
    output = tmp_path / "mlflow_compat.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--heron-only", "--backends", "sqlite"]
    done = subprocess.run(
        [*command, "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())
    rows = results["backends"]["sqlite"]
    assert set(rows) == WORKLOADS
    for workload, row in rows.items():
        assert row["heron"]["throughput"] > 0, workload
        assert "mlflow" not in row, workload
    assert rows["get_metric_history"]["heron"]["count"] == (
        results["sizes"]["batches"] * results["sizes"]["batch"]
    )
