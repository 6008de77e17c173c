"""Logging a model into a run: save it to a temporary folder, upload it as artifacts."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from heron.client import Client
from heron.errors import InvalidArgument
from heron.models.manifest import Manifest
from heron.models.signature import Signature, summary


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` stored: load it back with ``heron.models.load(info.model_uri)``."""

    model_uri: str
    run_id: str
    artifact_path: str
    manifest: Manifest

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    @property
    def flavors(self) -> list[str]:
        return list(self.manifest.flavors)

    @property
    def signature_summary(self) -> str:
        return summary(self.manifest.signature)


def log_model(
    save: Callable[[Path], Manifest],
    name: str,
    run_id: str | None = None,
    client: Client | None = None,
) -> ModelInfo:
    """Save with ``save(folder)`` and upload the folder as artifacts ``name`` of the run.

    The run is ``run_id`` (through ``client``, or a client on the current tracking URI),
    else the active run of the fluent API.
    """
    import heron

    artifact_path = name.strip("/")
    if not artifact_path or ".." in artifact_path.split("/"):
        raise InvalidArgument(f"model name {name!r} must be a relative artifact path")
    with tempfile.TemporaryDirectory(prefix="heron-model-") as temp:
        folder = Path(temp) / artifact_path.rsplit("/", 1)[-1]
        manifest = save(folder)
        if run_id is None:
            active = heron.active_run()
            if active is None:
                raise InvalidArgument(
                    "no active run to log the model into: call heron.start_run() first, "
                    "or pass run_id="
                )
            run_id = active.id
            heron.log_artifacts(folder, artifact_path)
        elif client is not None:
            client.log_artifacts(run_id, folder, artifact_path)
        else:
            with Client(heron.get_tracking_uri()) as opened:
                opened.log_artifacts(run_id, folder, artifact_path)
    return ModelInfo(f"runs:/{run_id}/{artifact_path}", run_id, artifact_path, manifest)
