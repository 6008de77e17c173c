"""Smoke test of the scoring-server benchmark: its quick Heron-only mode runs and reports.

The comparison with `mlflow models serve` is `benchmarks/bench_serving.py` without flags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model_extras import require

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_serving.py"


@pytest.mark.slow
def test_quick_heron_only_run_reports_every_measure(tmp_path: Path) -> None:
    require("skops", "sklearn")
    output = tmp_path / "serving.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--heron-only", "--models", "logreg"]
    # The in-process client, whether or not wrk is installed: the same run everywhere,
    # and sub-second cells (wrk measures whole seconds).
    command += ["--load-generator", "python"]
    done = subprocess.run(
        [*command, "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())
    row = results["models"]["logreg"]
    assert "mlflow" not in row
    assert set(row["heron"]) == {"1x1", "1x16", "100x1", "100x16"}
    variants = [row[v] for v in ("batching", "logging_baseline", "logging", "sklearn")]
    for figure in [*row["heron"].values(), *variants]:
        assert figure["requests"] > 0
        assert figure["failures"] == 0
        assert figure["p99_ms"] >= figure["p50_ms"] > 0
        assert figure["server_cpu_ms_per_request"] > 0
    assert row["raw_predict"]["calls_per_s_1_row"] > 0
    assert row["raw_predict"]["fast_calls_per_s_1_row"] > 0
    assert results["load_generator"] == "python"
    assert any("p50 under 2 ms" in check for check in results["checks"])
    assert "requests/s" in done.stdout
