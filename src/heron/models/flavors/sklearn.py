"""scikit-learn flavor: skops by default; pickle or joblib only when asked for, twice.

Pickle runs arbitrary code when loaded, so a pickled model needs an opt-in when it is
saved (``serialization="pickle"``) and again when it is loaded (``allow_pickle=True``):
the manifest saying "pickle" is not enough, since whoever wrote the manifest may not
be whoever loads it. skops loads without unpickling, constructing only trusted types.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from heron.errors import InvalidArgument, PermissionDenied
from heron.models.flavors import LoadOptions, PredictFn, require
from heron.models.manifest import Manifest
from heron.models.save import finish, prepare_directory
from heron.models.signature import Signature

NAME = "sklearn"
PACKAGES: tuple[str, ...] = ("scikit-learn", "numpy")
SERIALIZATIONS = {"skops": "model.skops", "pickle": "model.pkl", "joblib": "model.joblib"}
# The methods a manifest may ask predict() to call; any other name is refused.
PREDICT_METHODS = frozenset(
    {"predict", "predict_proba", "predict_log_proba", "decision_function", "transform"}
)


def save_model(
    model: Any,
    path: str | Path,
    *,
    serialization: str = "skops",
    predict_method: str = "predict",
    signature: Signature | None = None,
    input_example: Any = None,
    metadata: Mapping[str, Any] | None = None,
    extra_requirements: Iterable[str] = (),
) -> Manifest:
    if serialization not in SERIALIZATIONS:
        raise InvalidArgument(
            f"serialization must be one of {', '.join(SERIALIZATIONS)}, got {serialization!r}"
        )
    if predict_method not in PREDICT_METHODS or not hasattr(model, predict_method):
        raise InvalidArgument(
            f"predict_method {predict_method!r} is not a method of {type(model).__name__} "
            f"in {sorted(PREDICT_METHODS)}"
        )
    directory = prepare_directory(path)
    data = directory / SERIALIZATIONS[serialization]
    packages: list[str] = list(PACKAGES)
    if serialization == "skops":
        require("skops.io", "sklearn").dump(model, data)
        packages.append("skops")
    elif serialization == "joblib":
        require("joblib", "sklearn").dump(model, data)
        packages.append("joblib")
    else:
        with data.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    config = {
        "data": data.name,
        "serialization": serialization,
        "predict_method": predict_method,
        "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
    }
    return finish(
        directory,
        flavor=NAME,
        config=config,
        packages=packages,
        predict=getattr(model, predict_method),
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        extra_requirements=extra_requirements,
    )


def load_native(path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    data = data_file(path, config)
    serialization = config.get("serialization", "skops")
    if serialization == "skops":
        return load_skops(data, options)
    if serialization not in ("pickle", "joblib", "cloudpickle"):
        raise InvalidArgument(f"unknown scikit-learn serialization {serialization!r}")
    return load_pickle(data, serialization, options)


def load_pickle(data: Path, serialization: str, options: LoadOptions) -> Any:
    """Unpickle, but only with the caller's explicit ``allow_pickle=True``."""
    if not options.allow_pickle:
        raise PermissionDenied(
            f"this model is serialized with {serialization}, which runs arbitrary code when "
            "loaded; pass allow_pickle=True only if you trust where the model came from"
        )
    if serialization == "joblib":
        return require("joblib", "sklearn").load(data)
    with data.open("rb") as handle:
        # cloudpickle files are ordinary pickles that need cloudpickle importable.
        return pickle.load(handle)


def data_file(path: Path, config: Mapping[str, Any]) -> Path:
    name = str(config.get("data", ""))
    data = (path / name).resolve()
    if not name or not data.is_relative_to(path.resolve()) or not data.is_file():
        raise InvalidArgument(f"model data file {name!r} is missing from {path}")
    return data


def load_skops(data: Path, options: LoadOptions, vetted: frozenset[str] = frozenset()) -> Any:
    """Load a skops file, constructing only types skops, Heron or the caller trusts.

    ``vetted`` is a flavor's own fixed list (never read from a manifest)."""
    sio = require("skops.io", "sklearn")
    untrusted = sio.get_untrusted_types(file=data)
    refused = [
        t
        for t in untrusted
        if t not in options.trusted_types and t not in vetted and not _scikit_learn_class(t)
    ]
    if refused:
        raise PermissionDenied(
            f"{data.name} would construct types that are not trusted: {refused}. If you trust "
            "the model's source, pass trusted_types=[...] with these names when loading"
        )
    return sio.load(data, trusted=untrusted)


def _scikit_learn_class(name: str) -> bool:
    """Classes of scikit-learn itself (e.g. ``sklearn.tree._tree.Tree``), which skops
    does not trust by default but which any scikit-learn model may hold. Functions and
    other packages' types still need the caller's trust."""
    module, _, attribute = name.rpartition(".")
    if not module.startswith("sklearn.") or not attribute[:1].isupper():
        return False
    try:
        return isinstance(getattr(importlib.import_module(module), attribute, None), type)
    except ImportError:
        return False


def predictor(native: Any, config: Mapping[str, Any]) -> PredictFn:
    method_name = str(config.get("predict_method", "predict"))
    if method_name not in PREDICT_METHODS:
        raise PermissionDenied(f"predict_method {method_name!r} is not allowed")
    method = getattr(native, method_name)

    def predict(data: Any, params: Mapping[str, Any] | None) -> Any:
        return method(data)

    return predict
