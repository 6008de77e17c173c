"""Built-in flavors: how each kind of model is written, read back and asked to predict.

The manifest names flavors by key, and this fixed table turns a key into one of
Heron's own modules: a manifest cannot point the loader at any other module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from heron.errors import InvalidArgument

PredictFn = Callable[[Any, "Mapping[str, Any] | None"], Any]

BUILTIN_FLAVORS: Mapping[str, str] = {
    "sklearn": "heron.models.flavors.sklearn",
    "xgboost": "heron.models.flavors.xgboost",
    "lightgbm": "heron.models.flavors.lightgbm",
    "pytorch": "heron.models.flavors.pytorch",
    "onnx": "heron.models.flavors.onnx",
    "pyfunc": "heron.models.flavors.pyfunc",
}


@dataclass(frozen=True)
class LoadOptions:
    """Trust the caller grants when loading; a manifest can never grant it.

    ``allow_pickle``: load pickle/joblib/cloudpickle files, which run arbitrary code.
    ``trusted_types``: extra fully-qualified type names skops may construct.
    """

    allow_pickle: bool = False
    trusted_types: tuple[str, ...] = ()


class Flavor(Protocol):
    PACKAGES: tuple[str, ...]

    def load_native(self, path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any: ...

    def predictor(self, native: Any, config: Mapping[str, Any]) -> PredictFn: ...


def flavor(name: str) -> Flavor:
    module = BUILTIN_FLAVORS.get(name)
    if module is None:
        raise InvalidArgument(
            f"unknown model flavor {name!r}; this Heron loads {', '.join(BUILTIN_FLAVORS)}"
        )
    return cast(Flavor, importlib.import_module(module))


def require(package: str, extra: str) -> Any:
    """Import an optional library, or say which extra installs it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise InvalidArgument(
            f"this model needs {package}, which is not installed; pip install 'heron-ml[{extra}]'"
        ) from None
