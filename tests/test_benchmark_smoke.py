"""Smoke test of the tracking benchmark: its quick Heron-only mode runs and reports.

It needs no MLflow (--heron-only), so `make test` runs it everywhere; the comparison
itself is `make bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_tracking.py"
HERON_WORKLOADS = {"a", "a+", "b", "c", "d1", "d2"}


def test_quick_heron_only_run_reports_a_throughput_for_every_workload(tmp_path: Path) -> None:
    output = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--heron-only", "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())
    assert set(results["workloads"]) == HERON_WORKLOADS
    for key, row in results["workloads"].items():
        assert row["heron"]["throughput"] > 0, key
        assert row["heron"]["median_s"] > 0, key
        assert "mlflow" not in row, key
    # The memory check scans a small and a large experiment, each in a fresh process.
    small, large = results["memory"]
    assert small["runs"] < large["runs"] == results["sizes"]["runs"]
    assert large["python_peak_mib"] > 0
