"""Smoke test of the server benchmark: its quick Heron-only mode runs and reports.

It starts a real `heron server` on a free loopback port and needs no MLflow
(--heron-only) and no PostgreSQL (--backends sqlite), so `make test` runs it everywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_server.py"
WORKLOADS = {"a", "b", "c", "d", "e", "e+"}


def test_quick_heron_only_server_run_reports_positive_throughputs(tmp_path: Path) -> None:
    output = tmp_path / "server.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--heron-only",
            "--backends",
            "sqlite",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())
    assert list(results["backends"]) == ["sqlite"]
    sqlite = results["backends"]["sqlite"]
    assert set(sqlite["workloads"]) == WORKLOADS
    for key, row in sqlite["workloads"].items():
        assert row["heron"]["throughput"] > 0, key
        assert "mlflow" not in row, key
    assert sqlite["workloads"]["e+"]["heron"]["returned"] <= results["sizes"]["chart_points"]
    for mode, levels in sqlite["writers"]["heron"].items():
        assert set(levels) == {"1", "2"}, mode
        for writers, result in levels.items():
            assert result["throughput"] > 0, (mode, writers)
            assert result["errors"] == 0, (mode, writers)
    assert "mlflow" not in sqlite["writers"]
    artifacts = results["artifacts"]
    assert artifacts["bytes"] == results["sizes"]["artifact_mb"] * 2**20
    assert 0 < artifacts["before_mib"] <= artifacts["peak_mib"]
