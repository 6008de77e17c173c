"""Smoke test of the model benchmark: its quick Heron-only mode runs and reports.

The comparison with MLflow is `benchmarks/bench_models.py` without flags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model_extras import require

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_models.py"


@pytest.mark.slow
def test_quick_heron_only_run_reports_every_measure(tmp_path: Path) -> None:
    require("xgboost", "xgboost")
    require("skops", "sklearn")
    output = tmp_path / "models.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--heron-only", "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())
    assert set(results["models"]) == {"sklearn", "xgboost"}
    for name, row in results["models"].items():
        heron = row["heron"]
        assert "mlflow" not in row, name
        assert heron["load_s"] > 0, name
        assert heron["first_prediction_s"] > 0, name
        for size in ("one_row", "batch_1000"):
            assert heron[size]["raw_us"] > 0, name
            assert heron[size]["predict_us"] > 0, name
        assert "one_row_overhead_under_50us" in row["checks"]
    assert "overhead, 1 row" in done.stdout
