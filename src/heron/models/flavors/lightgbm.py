"""LightGBM flavor: the booster in LightGBM's own text format.

A scikit-learn wrapper (``LGBMClassifier``, ...) is saved as its booster plus its
class labels, so that it loads without pickle; it loads back as a ``lightgbm.Booster``
whose generic ``predict`` returns labels (or probabilities) as the wrapper did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidArgument, PermissionDenied
from heron.models.flavors import LoadOptions, PredictFn, require
from heron.models.manifest import Manifest
from heron.models.save import finish, prepare_directory
from heron.models.signature import Signature

NAME = "lightgbm"
PACKAGES: tuple[str, ...] = ("lightgbm", "numpy")
DATA_FILE = "model.lgb"
PREDICT_METHODS = frozenset({"predict", "predict_proba"})


def save_model(
    model: Any,
    path: str | Path,
    *,
    predict_method: str = "predict",
    signature: Signature | None = None,
    input_example: Any = None,
    metadata: Mapping[str, Any] | None = None,
    extra_requirements: Iterable[str] = (),
) -> Manifest:
    lgb = require("lightgbm", "lightgbm")
    if predict_method not in PREDICT_METHODS:
        raise InvalidArgument(f"predict_method must be one of {sorted(PREDICT_METHODS)}")
    config: dict[str, Any] = {"data": DATA_FILE, "model_class": type(model).__name__}
    if isinstance(model, lgb.LGBMModel):
        booster = model.booster_
        classes = getattr(model, "classes_", None)
        if classes is not None:
            config["classes"] = np.asarray(classes).tolist()
            config["predict_method"] = predict_method
    elif isinstance(model, lgb.Booster):
        booster = model
    else:
        raise InvalidArgument(f"heron.lightgbm saves a Booster or LGBMModel, not {type(model)}")
    directory = prepare_directory(path)
    booster.save_model(str(directory / DATA_FILE))
    predict = predictor(booster, config)
    return finish(
        directory,
        flavor=NAME,
        config=config,
        packages=PACKAGES,
        predict=lambda data: predict(data, None),
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        extra_requirements=extra_requirements,
    )


# LightGBM's own types that a skops file of a scikit-learn wrapper holds (as MLflow
# writes them); vetted here, in code, because a manifest may not extend trust.
SKOPS_TYPES = frozenset(
    {
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "lightgbm.sklearn.LGBMRanker",
        "lightgbm.sklearn.LGBMModel",
    }
)


def load_native(path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    lgb = require("lightgbm", "lightgbm")
    serialization = config.get("serialization", "native")
    if serialization != "native":
        from heron.models.flavors import sklearn

        data = sklearn.data_file(path, config)
        if serialization == "skops":
            return sklearn.load_skops(data, options, SKOPS_TYPES)
        return sklearn.load_pickle(data, str(serialization), options)
    data = path / str(config.get("data", DATA_FILE))
    if not data.resolve().is_relative_to(path.resolve()) or not data.is_file():
        raise InvalidArgument(f"lightgbm model file {data.name!r} is missing from {path}")
    return lgb.Booster(model_file=str(data))


def predictor(native: Any, config: Mapping[str, Any]) -> PredictFn:
    if type(native).__name__ != "Booster":  # a scikit-learn wrapper, loaded from MLflow
        wrapper_predict = native.predict

        def predict_wrapper(data: Any, params: Mapping[str, Any] | None) -> Any:
            return wrapper_predict(data)

        return predict_wrapper
    booster_predict = native.predict
    classes = config.get("classes")
    if classes is None:

        def predict_raw(data: Any, params: Mapping[str, Any] | None) -> Any:
            return booster_predict(data)

        return predict_raw
    labels = np.asarray(classes)
    method_name = str(config.get("predict_method", "predict"))
    if method_name not in PREDICT_METHODS:
        raise PermissionDenied(f"predict_method {method_name!r} is not allowed")

    def predict_classes(data: Any, params: Mapping[str, Any] | None) -> Any:
        scores = np.asarray(booster_predict(data))
        if scores.ndim == 1:  # binary: the probability of the second class
            scores = np.column_stack([1.0 - scores, scores])
        if method_name == "predict_proba":
            return scores
        return labels[np.argmax(scores, axis=1)]

    return predict_classes
