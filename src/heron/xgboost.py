"""XGBoost models: ``heron.xgboost.log_model(booster, name="model")``.

Saved in XGBoost's own format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heron.client import Client
from heron.models.flavors import xgboost as _flavor
from heron.models.log import ModelInfo
from heron.models.log import log_model as _log_model
from heron.models.manifest import Manifest
from heron.models.model import load_native

__all__ = ["load_model", "log_model", "save_model"]


def save_model(model: Any, path: str | Path, **options: Any) -> Manifest:
    """Write ``model`` as a Heron model folder at ``path``.

    Options: ``predict_method`` ("predict" or "predict_proba" for the scikit-learn
    wrappers), ``signature``, ``input_example``, ``metadata``, ``extra_requirements``.
    """
    return _flavor.save_model(model, path, **options)


def log_model(
    model: Any,
    name: str = "model",
    *,
    run_id: str | None = None,
    client: Client | None = None,
    **options: Any,
) -> ModelInfo:
    """Save ``model`` into the active run (or ``run_id``) as artifacts under ``name``."""
    return _log_model(lambda folder: save_model(model, folder, **options), name, run_id, client)


def load_model(model_uri: str | Path, **options: Any) -> Any:
    """The ``xgboost.Booster`` (or ``XGBClassifier``, ...) saved at ``model_uri``."""
    return load_native(model_uri, _flavor.NAME, **options)
