"""Custom Python models with artifacts and code.

    class MyModel(heron.pyfunc.PythonModel):
        def load_context(self, context): self.vocab = open(context.artifacts["vocab"]).read()
        def predict(self, model_input, params=None): ...

    heron.pyfunc.log_model(MyModel(), name="model", artifacts={"vocab": "vocab.txt"},
                           code_paths=["src/features.py"])

The class must live in a module file (it is imported from the model's ``code/`` when
loaded); its module is added to ``code/`` automatically when not in ``code_paths``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heron.client import Client
from heron.models.flavors import pyfunc as _flavor
from heron.models.flavors.pyfunc import ModelContext, PythonModel
from heron.models.log import ModelInfo
from heron.models.log import log_model as _log_model
from heron.models.manifest import Manifest
from heron.models.model import load_native

__all__ = ["ModelContext", "PythonModel", "load_model", "log_model", "save_model"]


def save_model(python_model: Any, path: str | Path, **options: Any) -> Manifest:
    """Write ``python_model`` as a Heron model folder at ``path``.

    Options: ``artifacts`` (name -> local file or folder), ``code_paths``, ``model_config``,
    ``signature``, ``input_example``, ``metadata``, ``extra_requirements``.
    """
    return _flavor.save_model(python_model, path, **options)


def log_model(
    python_model: Any,
    name: str = "model",
    *,
    run_id: str | None = None,
    client: Client | None = None,
    **options: Any,
) -> ModelInfo:
    """Save ``python_model`` into the active run (or ``run_id``) as artifacts under ``name``."""
    return _log_model(
        lambda folder: save_model(python_model, folder, **options), name, run_id, client
    )


def load_model(model_uri: str | Path, **options: Any) -> Any:
    """The ``PythonModel`` instance saved at ``model_uri``, with its context loaded."""
    return load_native(model_uri, _flavor.NAME, **options)
