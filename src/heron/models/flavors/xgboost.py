"""XGBoost flavor: Boosters and the scikit-learn wrappers, in XGBoost's own UBJSON format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from heron.errors import InvalidArgument, PermissionDenied
from heron.models.flavors import LoadOptions, PredictFn, require
from heron.models.manifest import Manifest
from heron.models.save import finish, prepare_directory
from heron.models.signature import Signature

NAME = "xgboost"
PACKAGES: tuple[str, ...] = ("xgboost", "numpy")
DATA_FILE = "model.ubj"
# The classes a manifest may ask for; the loader never imports a name it is given.
MODEL_CLASSES = frozenset(
    {"Booster", "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor"}
)
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
    model_class = type(model).__name__
    if model_class not in MODEL_CLASSES:
        raise InvalidArgument(
            f"heron.xgboost saves {', '.join(sorted(MODEL_CLASSES))}, not {model_class}"
        )
    if predict_method not in PREDICT_METHODS:
        raise InvalidArgument(f"predict_method must be one of {sorted(PREDICT_METHODS)}")
    directory = prepare_directory(path)
    model.save_model(str(directory / DATA_FILE))
    config = {"data": DATA_FILE, "model_class": model_class, "predict_method": predict_method}
    predict = predictor(model, config)
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


def load_native(path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    xgb = require("xgboost", "xgboost")
    model_class = str(config.get("model_class", "Booster")).rsplit(".", 1)[-1]
    if model_class not in MODEL_CLASSES:
        raise PermissionDenied(f"xgboost model class {model_class!r} is not one Heron loads")
    data = path / str(config.get("data", DATA_FILE))
    if not data.resolve().is_relative_to(path.resolve()) or not data.is_file():
        raise InvalidArgument(f"xgboost model file {data.name!r} is missing from {path}")
    if model_class == "Booster":
        return xgb.Booster(model_file=str(data))
    model = getattr(xgb, model_class)()
    model.load_model(str(data))
    return model


def predictor(native: Any, config: Mapping[str, Any]) -> PredictFn:
    if type(native).__name__ == "Booster":
        # inplace_predict takes numpy and pandas directly, without building a DMatrix.
        booster_predict = native.inplace_predict

        def predict_booster(data: Any, params: Mapping[str, Any] | None) -> Any:
            return booster_predict(data)

        return predict_booster
    method_name = str(config.get("predict_method", "predict"))
    if method_name not in PREDICT_METHODS:
        raise PermissionDenied(f"predict_method {method_name!r} is not allowed")
    method = getattr(native, method_name)

    def predict(data: Any, params: Mapping[str, Any] | None) -> Any:
        return method(data)

    return predict
