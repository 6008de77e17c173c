"""Heron's model format: save, log, load and predict, the same way for every flavor.

>>> info = heron.sklearn.log_model(pipeline, name="model", input_example=X[:5])
>>> model = heron.models.load(info.model_uri)      # or a path, runs:/, models:/
>>> model.predict(X)

The on-disk format is documented in docs/model-format.md.
"""

from heron.models.archive import pack
from heron.models.enforce import ExtraColumnsWarning
from heron.models.environment import EnvironmentMismatchWarning
from heron.models.flavors import BUILTIN_FLAVORS
from heron.models.log import ModelInfo
from heron.models.manifest import FORMAT_VERSION, MANIFEST_FILE, Manifest, read_manifest
from heron.models.model import Model, load
from heron.models.signature import (
    ColumnSpec,
    ParamSpec,
    Schema,
    Signature,
    TensorSpec,
    infer_signature,
    summary,
)

signature_summary = summary

__all__ = [
    "BUILTIN_FLAVORS",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "ColumnSpec",
    "EnvironmentMismatchWarning",
    "ExtraColumnsWarning",
    "Manifest",
    "Model",
    "ModelInfo",
    "ParamSpec",
    "Schema",
    "Signature",
    "TensorSpec",
    "infer_signature",
    "load",
    "pack",
    "read_manifest",
    "signature_summary",
]
