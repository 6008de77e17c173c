"""Runs as a pandas DataFrame, with MLflow's column naming."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from heron.entities import Run


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for run in runs:
        row: dict[str, Any] = {
            "run_id": run.id,
            "experiment_id": run.experiment_id,
            "run_name": run.name,
            "status": run.status.value,
            "start_time": pd.to_datetime(run.start_time, unit="ms", utc=True),
            "end_time": (
                pd.to_datetime(run.end_time, unit="ms", utc=True)
                if run.end_time is not None
                else pd.NaT
            ),
            "user": run.user,
            "parent_run_id": run.parent_run_id,
            "artifact_uri": run.artifact_uri,
        }
        row.update({f"metrics.{k}": v for k, v in run.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.params.items()})
        row.update({f"tags.{k}": v for k, v in run.tags.items()})
        rows.append(row)
    columns = [
        "run_id",
        "experiment_id",
        "run_name",
        "status",
        "start_time",
        "end_time",
        "user",
        "parent_run_id",
        "artifact_uri",
    ]
    frame = pd.DataFrame(rows, columns=None if rows else columns)
    extra = sorted(c for c in frame.columns if c not in columns)
    ordered = (
        [c for c in extra if c.startswith("metrics.")]
        + [c for c in extra if c.startswith("params.")]
        + [c for c in extra if c.startswith("tags.")]
    )
    return frame[columns + ordered]
