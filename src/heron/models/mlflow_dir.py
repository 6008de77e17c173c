"""MLflow model directories (an ``MLmodel`` file): read as Heron models, and converted.

The ``MLmodel`` file is mapped onto Heron's own flavors; its ``loader_module`` is never
imported. Supported: MLflow's sklearn, xgboost and lightgbm flavors, and custom
``mlflow.pyfunc`` models (cloudpickled, so loading those needs ``allow_pickle=True``).
MLflow records no file hashes, so nothing can be verified; ``convert`` writes a Heron
model directory that records them from then on.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from heron.errors import InvalidArgument, PermissionDenied
from heron.models.flavors import LoadOptions
from heron.models.manifest import Manifest, hash_directory, now_iso, write_manifest
from heron.models.signature import ColumnSpec, ParamSpec, Schema, Signature, TensorSpec

MLMODEL = "MLmodel"
CONVERTED_EXAMPLE = "input_example.heron.json"


def read_mlflow_manifest(folder: Path) -> Manifest:
    try:
        mlmodel = yaml.safe_load((folder / MLMODEL).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InvalidArgument(f"{folder / MLMODEL} is not valid YAML: {error}") from None
    if not isinstance(mlmodel, Mapping) or not isinstance(mlmodel.get("flavors"), Mapping):
        raise InvalidArgument(f"{folder / MLMODEL} has no flavors")
    flavors = mlmodel["flavors"]
    pyfunc = dict(flavors.get("python_function") or {})
    name, config = _heron_flavor(flavors, pyfunc, folder)
    metadata = dict(mlmodel.get("metadata") or {})
    metadata["mlflow"] = {
        "mlflow_version": mlmodel.get("mlflow_version"),
        "model_uuid": mlmodel.get("model_uuid"),
        "loader_module": pyfunc.get("loader_module"),
    }
    return Manifest(
        flavors={name: config},
        files={},
        signature=_signature(mlmodel.get("signature")),
        input_example=None,
        environment=_environment(folder, pyfunc),
        metadata=metadata,
        created_at=str(mlmodel.get("utc_time_created") or ""),
        heron_version="",
    )


def _heron_flavor(
    flavors: Mapping[str, Any], pyfunc: Mapping[str, Any], folder: Path
) -> tuple[str, dict[str, Any]]:
    if "sklearn" in flavors:
        sk = flavors["sklearn"]
        return "sklearn", {
            "data": sk.get("pickled_model") or pyfunc.get("model_path"),
            "serialization": sk.get("serialization_format") or "cloudpickle",
            "predict_method": pyfunc.get("predict_fn") or "predict",
        }
    if "xgboost" in flavors:
        xg = flavors["xgboost"]
        return "xgboost", {
            "data": xg.get("data"),
            "model_class": str(xg.get("model_class", "Booster")).rsplit(".", 1)[-1],
            "predict_method": "predict",
        }
    if "lightgbm" in flavors:
        lg = flavors["lightgbm"]
        data = str(lg.get("data", "model.lgb"))
        serialization = lg.get("serialization_format") or (
            "native" if data.endswith(".lgb") else "cloudpickle"
        )
        return "lightgbm", {"data": data, "serialization": serialization}
    if pyfunc.get("loader_module") == "mlflow.pyfunc.model" and pyfunc.get("python_model"):
        artifacts = {
            str(k): str(v.get("path") if isinstance(v, Mapping) else v)
            for k, v in (pyfunc.get("artifacts") or {}).items()
        }
        return "pyfunc", {
            "mlflow_python_model": pyfunc["python_model"],
            "mlflow_code": pyfunc.get("code"),
            "artifacts": artifacts,
            "model_config": dict(pyfunc.get("model_config") or {}),
        }
    raise InvalidArgument(
        f"the MLflow model at {folder} has flavors {sorted(flavors)}; Heron loads MLflow's "
        "sklearn, xgboost, lightgbm and python_function (custom PythonModel) models"
    )


def _signature(raw: Any) -> Signature | None:
    if not isinstance(raw, Mapping) or not raw.get("inputs"):
        return None
    try:
        inputs = _schema(json.loads(raw["inputs"]))
        outputs = _schema(json.loads(raw["outputs"])) if raw.get("outputs") else None
        params = tuple(
            ParamSpec(p["name"], p["type"], p.get("default"))
            for p in json.loads(raw["params"] or "[]")
        )
    except (InvalidArgument, KeyError, TypeError, ValueError):
        return None  # a type Heron does not model (maps, objects): load without checks
    return Signature(inputs=inputs, outputs=outputs, params=params)


def _schema(entries: list[dict[str, Any]]) -> Schema:
    if entries and entries[0].get("type") == "tensor":
        return Schema(
            tensors=tuple(
                TensorSpec(
                    e["tensor-spec"]["dtype"], tuple(e["tensor-spec"]["shape"]), e.get("name")
                )
                for e in entries
            )
        )
    columns = []
    for index, entry in enumerate(entries):
        items = entry.get("items", {}).get("type") if entry["type"] == "array" else None
        name = str(entry.get("name", index))
        columns.append(ColumnSpec(name, entry["type"], bool(entry.get("required", True)), items))
    return Schema(columns=tuple(columns))


def _environment(folder: Path, pyfunc: Mapping[str, Any]) -> dict[str, Any]:
    packages = {}
    requirements = folder / "requirements.txt"
    if requirements.is_file():
        for line in requirements.read_text(encoding="utf-8").splitlines():
            name, sep, version = line.strip().partition("==")
            if sep and name and not name.startswith(("-", "#")):
                packages[name] = version
    return {
        "python": str(pyfunc.get("python_version") or ""),
        "packages": packages,
        "extra_requirements": [],
        "git": None,
    }


def load_mlflow_python_model(
    path: Path, config: Mapping[str, Any], options: LoadOptions, context: Any
) -> Any:
    if not options.allow_pickle:
        raise PermissionDenied(
            "this MLflow python model is cloudpickled, and unpickling runs arbitrary code; "
            "pass allow_pickle=True only if you trust where the model came from"
        )
    code = config.get("mlflow_code")
    if code and str((path / str(code)).resolve()) not in sys.path:
        # Cloudpickled classes refer to modules in the model's code folder by name.
        sys.path.append(str((path / str(code)).resolve()))
    with (path / str(config["mlflow_python_model"])).open("rb") as handle:
        model = pickle.load(handle)
    model.load_context(context)
    return model


def read_mlflow_example(folder: Path) -> Any:
    """MLflow's saved input example as a DataFrame or array, or None."""
    import numpy as np
    import pandas as pd

    mlmodel = yaml.safe_load((folder / MLMODEL).read_text(encoding="utf-8"))
    info = mlmodel.get("saved_input_example_info") or {}
    file = folder / str(info.get("artifact_path", ""))
    if not info or not file.is_file():
        return None
    document = json.loads(file.read_text(encoding="utf-8"))
    if info.get("type") == "dataframe" and "columns" in document:
        return pd.DataFrame(document["data"], columns=document["columns"])
    if info.get("type") == "ndarray":
        # A bare list, or {"inputs": ...} in MLflow's serving layout.
        values = document.get("inputs") if isinstance(document, dict) else document
        return None if values is None else np.asarray(values)
    return None


def convert(source: Path, destination: Path, options: LoadOptions) -> Manifest:
    """Write the MLflow model at ``source`` as a Heron model folder at ``destination``.

    The model is loaded first (with the caller's trust), so only a model Heron can load
    is converted. MLflow's files are kept, so MLflow can still load the result.
    """
    import heron
    from heron.models import environment
    from heron.models.example import write_example
    from heron.models.flavors import flavor
    from heron.models.save import prepare_directory

    manifest = read_mlflow_manifest(source)
    name = manifest.primary_flavor
    flavor(name).load_native(source, manifest.flavors[name], options)
    directory = prepare_directory(destination)
    shutil.copytree(source, directory, dirs_exist_ok=True, symlinks=True)
    example = read_mlflow_example(source)
    example_file = None
    if example is not None:
        example_file = write_example(example, directory, CONVERTED_EXAMPLE)
    if not (directory / "requirements.txt").exists():
        (directory / "requirements.txt").write_text(
            environment.requirements_txt(manifest.environment)
        )
    converted = Manifest(
        flavors=manifest.flavors,
        files=hash_directory(directory),
        signature=manifest.signature,
        input_example=example_file,
        environment=manifest.environment,
        metadata=manifest.metadata,
        created_at=now_iso(),
        heron_version=heron.__version__,
    )
    write_manifest(directory, converted)
    return converted
