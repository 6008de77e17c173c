"""Model benchmark: Heron vs MLflow loading and predicting the same models.

    .venv/bin/python benchmarks/bench_models.py
    .venv/bin/python benchmarks/bench_models.py --quick --heron-only     # smoke run

For a scikit-learn and an XGBoost model, each saved by both products with a signature
(from the same input example), it measures in a fresh process per product and model
(models_worker.py): load time, first-prediction latency, and the per-call overhead of
``predict`` above the raw model's ``predict`` on the same numpy input, for 1 row and
for 1,000 rows. MLflow's side is ``mlflow.pyfunc.load_model(...).predict``.

MLflow is the pinned ``mlflow`` 3.17.2 of Heron's dev environment (it needs the model
libraries, which ``benchmarks/.venv-mlflow`` lacks); ``--mlflow-python`` picks another.
Targets (issue 6): Heron's single-row overhead under 50 microseconds, and at least 10x
less than MLflow's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
WORKER = HERE / "models_worker.py"
DEFAULT_OUTPUT = HERE / "results" / "models.json"
TARGET_OVERHEAD_US = 50.0
TARGET_RATIO = 10.0
FEATURES = 20

SIZES = {
    "default": {"calls_1": 20_000, "calls_1000": 1000, "warm_loads": 5, "trees": 100},
    "quick": {"calls_1": 100, "calls_1000": 10, "warm_loads": 1, "trees": 5},
}


def build_models(folder: Path, trees: int, heron_only: bool) -> dict[str, dict[str, Any]]:
    """Train both models once and save each with every product measured."""
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression

    import heron

    rng = np.random.default_rng(42)
    features = rng.random((5000, FEATURES))
    labels = (features[:, 0] + features[:, 1] > 1).astype(int)
    example = features[:5]
    sk_model = LogisticRegression(max_iter=500).fit(features, labels)
    xgb_features = features.astype("float32")
    xgb_model = xgb.XGBClassifier(n_estimators=trees, max_depth=4, n_jobs=1).fit(
        xgb_features, labels
    )
    models = {
        "sklearn": {"dtype": "float64", "model": sk_model, "example": example},
        "xgboost": {"dtype": "float32", "model": xgb_model, "example": xgb_features[:5]},
    }
    heron.sklearn.save_model(sk_model, folder / "heron-sklearn", input_example=example)
    heron.xgboost.save_model(xgb_model, folder / "heron-xgboost", input_example=xgb_features[:5])
    if not heron_only:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mlflow.sklearn
            import mlflow.xgboost

            mlflow.sklearn.save_model(sk_model, folder / "mlflow-sklearn", input_example=example)
            mlflow.xgboost.save_model(
                xgb_model, folder / "mlflow-xgboost", input_example=xgb_features[:5]
            )
    return {name: {"dtype": spec["dtype"]} for name, spec in models.items()}


def run_worker(python: str, product: str, path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    # One thread for the model libraries on both sides: on a small shared machine,
    # XGBoost's thread pool otherwise turns a 1-row predict into scheduling noise.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [python, str(WORKER), product, str(path), json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{product} worker failed on {path.name}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(results: dict[str, Any]) -> None:
    for row in results["models"].values():
        heron, mlflow = row["heron"], row.get("mlflow")
        heron_one = heron["one_row"]["overhead_us"]
        row["checks"] = {"one_row_overhead_under_50us": heron_one < TARGET_OVERHEAD_US}
        if mlflow is None:
            continue
        ratios = {}
        for size in ("one_row", "batch_1000"):
            ratios[f"{size}_overhead"] = mlflow[size]["overhead_us"] / max(
                heron[size]["overhead_us"],
                0.1,  # below timer noise: count it as 0.1 us
            )
        ratios["load"] = mlflow["load_s"] / heron["load_s"]
        ratios["warm_load"] = mlflow["warm_load_s"] / heron["warm_load_s"]
        ratios["first_prediction"] = mlflow["first_prediction_s"] / heron["first_prediction_s"]
        row["ratios"] = ratios
        row["checks"]["one_row_overhead_10x_less"] = ratios["one_row_overhead"] >= TARGET_RATIO


def render(results: dict[str, Any], console: Console) -> None:
    table = Table(title="Model loading and predict overhead: Heron vs MLflow", title_style="bold")
    for column in ("model", "measure", "Heron", "MLflow", "MLflow / Heron", "target"):
        table.add_column(column, justify="left" if column in ("model", "measure") else "right")
    for name, row in results["models"].items():
        heron, mlflow, ratios = row["heron"], row.get("mlflow"), row.get("ratios", {})

        def side(result: dict[str, Any] | None, key: str, unit: str) -> str:
            if result is None:
                return "-"
            value = result
            for part in key.split("."):
                value = value[part]
            return f"{value * 1000:,.1f} ms" if unit == "ms" else f"{value:,.1f} us"

        def ratio(key: str, ratios: dict[str, float] = ratios) -> str:
            return f"{ratios[key]:,.1f}x" if key in ratios else "-"

        one_met = row["checks"]["one_row_overhead_under_50us"]
        ten_met = row["checks"].get("one_row_overhead_10x_less")
        for measure, key, unit, ratio_key, target in (
            ("load (fresh process)", "load_s", "ms", "load", ""),
            ("load again (warm process)", "warm_load_s", "ms", "warm_load", ""),
            ("first prediction", "first_prediction_s", "ms", "first_prediction", ""),
            ("raw predict, 1 row", "one_row.raw_us", "us", None, ""),
            ("overhead, 1 row", "one_row.overhead_us", "us", "one_row_overhead",
             f"<50 us {'met' if one_met else 'MISSED'}"
             + ("" if ten_met is None else f"; >=10x {'met' if ten_met else 'MISSED'}")),
            ("raw predict, 1,000 rows", "batch_1000.raw_us", "us", None, ""),
            ("overhead, 1,000 rows", "batch_1000.overhead_us", "us", "batch_1000_overhead", ""),
        ):  # fmt: skip
            table.add_row(
                name,
                measure,
                side(heron, key, unit),
                side(mlflow, key, unit),
                ratio(ratio_key) if ratio_key else "",
                target,
            )
        table.add_section()
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--heron-only", action="store_true", help="skip MLflow")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--mlflow-python", default=sys.executable)
    args = parser.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "default"]
    console = Console(width=None if sys.stdout.isatty() else 110)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "sizes": sizes,
        "targets": {"one_row_overhead_us": TARGET_OVERHEAD_US, "ratio": TARGET_RATIO},
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="heron-bench-models-") as temp:
        folder = Path(temp)
        specs = build_models(folder, sizes["trees"], args.heron_only)
        for name, spec in specs.items():
            spec = {**spec, **sizes, "features": FEATURES}
            row: dict[str, Any] = {}
            console.print(f"[bold]{name}[/]: Heron ...")
            row["heron"] = run_worker(sys.executable, "heron", folder / f"heron-{name}", spec)
            if not args.heron_only:
                console.print(f"[bold]{name}[/]: MLflow ...")
                row["mlflow"] = run_worker(
                    args.mlflow_python, "mlflow", folder / f"mlflow-{name}", spec
                )
            results["models"][name] = row
    compare(results)
    render(results, console)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    console.print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
