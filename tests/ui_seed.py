"""Seeded data for the web UI's end-to-end tests and benchmark, written straight to the
store a `heron server` subprocess then serves (faster than going through HTTP)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from tests.registry_helpers import write_model_folder

from heron.entities import Dataset, Metric, Param, RunInput, RunTag
from heron.server.settings import ServerSettings
from heron.services import TrackingService
from heron.services.registry import RegistryService
from heron.store import SqlRegistryStore, SqlTrackingStore

XSS_NAME = "<img src=x onerror=alert(1)>"
MODEL = "fraud-detector"
REQUESTER = "alice"
APPROVER = "bob"


@dataclass
class Seeded:
    experiment_id: str
    other_experiment_id: str
    run_ids: dict[str, str] = field(default_factory=dict)  # run name -> id
    request_id: int = 0


def open_services(folder: Path) -> tuple[SqlTrackingStore, TrackingService, RegistryService]:
    """Services on the store that ``LiveServer(folder)`` serves."""
    settings = ServerSettings.for_location(
        f"sqlite:///{folder / 'heron.db'}", str(folder / "artifacts")
    )
    store = SqlTrackingStore(settings.backend_store_uri)
    tracking = TrackingService(store, settings.default_artifact_root)
    return store, tracking, RegistryService(SqlRegistryStore(store.engines), tracking)


def seed_ui_data(folder: Path) -> Seeded:
    """Two experiments; runs with params, metric histories, tags, a dataset and artifacts
    of each previewable kind; a registered model with two versions and an open request."""
    store, tracking, registry = open_services(folder)
    try:
        experiment = tracking.create_experiment("fraud")
        other = tracking.create_experiment("churn")
        seeded = Seeded(experiment.id, other.id)
        dataset = Dataset("transactions", "d1g3st", "pandas", "memory", {"amount": "double"}, {})
        for index, learning_rate in enumerate((0.3, 0.1, 0.03, 0.01)):
            name = f"lr-{learning_rate}"
            run = tracking.create_run(experiment.id, run_name=name, user=REQUESTER)
            seeded.run_ids[name] = run.id
            losses = [
                Metric(
                    "loss", 1.0 / (1 + step * learning_rate * 10), 1_700_000_000_000 + step, step
                )
                for step in range(200)
            ]
            auc = 0.80 + 0.04 * index
            tracking.log_batch(
                run.id,
                metrics=[*losses, Metric("auc", auc, 1_700_000_000_000, 0)],
                params=[Param("learning_rate", str(learning_rate)), Param("optimizer", "adam")],
                tags=[RunTag("team", "risk" if index % 2 else "growth")],
            )
            tracking.log_inputs(run.id, [RunInput(dataset, "training")])
            tracking.end_run(run.id)
        best = seeded.run_ids["lr-0.01"]
        _log_previewable_artifacts(tracking, best, folder / "scratch")
        write_model_folder(folder / "scratch" / "model")
        tracking.log_artifact(best, folder / "scratch" / "model", "model")
        _log_mlflow_model(tracking, best, folder / "scratch" / "mlflow-model")
        hostile = tracking.create_run(experiment.id, run_name=XSS_NAME, user=XSS_NAME)
        tracking.log_batch(hostile.id, params=[Param("learning_rate", XSS_NAME)])
        seeded.run_ids[XSS_NAME] = hostile.id
        churn_run = tracking.create_run(other.id, run_name="churn-baseline", user=REQUESTER)
        tracking.log_metric(churn_run.id, "auc", 0.7)
        seeded.run_ids["churn-baseline"] = churn_run.id

        registry.grant_role(APPROVER, "admin", APPROVER)
        registry.grant_role(APPROVER, "approver", APPROVER)
        registry.register_model(f"runs:/{best}/model", MODEL, REQUESTER)
        registry.register_model(f"runs:/{best}/model", MODEL, REQUESTER)
        registry.set_policy(MODEL, APPROVER, protected_aliases=["champion"])
        registry.set_alias(MODEL, "challenger", 2, REQUESTER)
        request = registry.request_transition(MODEL, 2, "champion", REQUESTER, comment="beats v1")
        seeded.request_id = request.id
        return seeded
    finally:
        store.close()


def _log_previewable_artifacts(tracking: TrackingService, run_id: str, scratch: Path) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "notes.txt").write_text("trained on transactions\n")
    (scratch / "config.json").write_text(json.dumps({"lr": 0.01, "layers": [64, 32]}))
    (scratch / "predictions.csv").write_text("id,score\n1,0.91\n2,0.12\n")
    (scratch / "report.html").write_text("<script>alert('artifact')</script>")
    # A 2x2 PNG, so that the image preview has something real to show.
    (scratch / "plot.png").write_bytes(_tiny_png())
    # Parquet: read on the server; one cell holds markup, which must show as text.
    table = pa.table({"id": [1, 2, 3], "score": [0.91, 0.12, None], "note": ["ok", XSS_NAME, ""]})
    pq.write_table(table, scratch / "scores.parquet")
    names = (
        "notes.txt",
        "config.json",
        "predictions.csv",
        "report.html",
        "plot.png",
        "scores.parquet",
    )
    for name in names:
        tracking.log_artifact(run_id, scratch / name)


def _log_mlflow_model(tracking: TrackingService, run_id: str, folder: Path) -> None:
    """An MLflow model folder (MLmodel + requirements.txt), as mlflow.sklearn writes one."""
    folder.mkdir(parents=True, exist_ok=True)
    inputs = [{"type": "double", "name": "amount", "required": True}]
    outputs = [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "python_version": "3.11.9"},
            "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "1.5.2"},
        },
        "signature": {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs)},
        "mlflow_version": "2.20.0",
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "requirements.txt").write_text("mlflow==2.20.0\nscikit-learn==1.5.2\n")
    tracking.log_artifact(run_id, folder, "mlflow-model")


def _tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes([255, 0, 0, 0, 0, 255]) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
