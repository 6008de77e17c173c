"""Runs with a logged model folder, for registry tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from heron.entities import Dataset, RunInput
from heron.services import TrackingService

SIGNATURE = {
    "inputs": {"columns": [{"name": "age", "type": "long"}, {"name": "income", "type": "double"}]},
    "outputs": {"columns": [{"name": "score", "type": "double"}]},
}


def write_model_folder(folder: Path) -> Path:
    """A folder that looks like a Heron model to the registry: a manifest with a signature."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format_version": 1, "flavors": {"python_function": {}}, "signature": SIGNATURE}
    (folder / "heron-model.yaml").write_text(yaml.safe_dump(manifest))
    (folder / "model.bin").write_bytes(b"weights")
    return folder


def run_with_model(
    service: TrackingService,
    tmp_path: Path,
    *,
    experiment: str = "fraud",
    digest: str | None = None,
    name: str = "lr",
) -> str:
    """A run that logged a model under ``model/`` (and took a dataset, if ``digest``)."""
    found = service.find_experiment_by_name(experiment)
    experiment_id = found.id if found else service.create_experiment(experiment).id
    run = service.create_run(experiment_id, run_name=name, user="alice")
    folder = write_model_folder(tmp_path / f"model-{run.id}")
    service.log_artifact(run.id, folder, "model")
    if digest is not None:
        dataset = Dataset("transactions", digest, "pandas", "memory", {"a": "int"}, {})
        service.log_inputs(run.id, [RunInput(dataset, "training")])
    return run.id
