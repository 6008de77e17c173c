"""Heron: one open platform for the machine-learning lifecycle.

This module is the fluent API; ``heron.Client`` is the object API.
"""

from heron import errors
from heron.client import Client
from heron.entities import Dataset, Experiment, Metric, Run, RunStatus
from heron.fluent import (
    ActiveRun,
    active_run,
    end_run,
    flush,
    get_run,
    get_tracking_uri,
    log_artifact,
    log_artifacts,
    log_dict,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from heron.fluent_registry import (
    approve,
    delete_alias,
    lineage,
    register_model,
    reject,
    request_transition,
    set_alias,
)

__version__ = "0.1.0"

# Model flavors and the model API are submodules imported on first use, so that
# ``import heron`` stays fast and does not import scikit-learn, xgboost or torch.
_LAZY_SUBMODULES = frozenset(
    {"models", "pyfunc", "sklearn", "xgboost", "lightgbm", "pytorch", "onnx"}
)


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"heron.{name}")
    raise AttributeError(f"module 'heron' has no attribute {name!r}")


__all__ = [
    "ActiveRun",
    "Client",
    "Dataset",
    "Experiment",
    "Metric",
    "Run",
    "RunStatus",
    "__version__",
    "active_run",
    "approve",
    "delete_alias",
    "end_run",
    "errors",
    "flush",
    "get_run",
    "get_tracking_uri",
    "lineage",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "reject",
    "request_transition",
    "search_runs",
    "set_alias",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
