"""Generic Python-function flavor: your own class, with artifacts and code shipped along.

The model is re-created when loaded, never unpickled: the class is imported from the
model's own ``code/`` folder, constructed without arguments, and handed its artifacts
and ``model_config`` through ``load_context``. State belongs in artifacts.
"""

from __future__ import annotations

import inspect
import shutil
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.errors import InvalidArgument, PermissionDenied
from heron.models.code import class_reference, copy_code_paths, import_from_model_code
from heron.models.flavors import LoadOptions, PredictFn
from heron.models.manifest import Manifest
from heron.models.save import finish, prepare_directory
from heron.models.signature import Signature

NAME = "pyfunc"
PACKAGES: tuple[str, ...] = ()
ARTIFACTS_DIR = "artifacts"
# The context each loaded model was given, for models whose predict takes it (MLflow's).
_contexts: weakref.WeakKeyDictionary[Any, ModelContext] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ModelContext:
    """What ``load_context`` receives: artifact name -> local path, and the config."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Subclass this: override ``predict`` and, to read artifacts, ``load_context``."""

    def load_context(self, context: ModelContext) -> None:
        """Called once when the model is loaded (and when it is saved)."""

    def predict(self, model_input: Any, params: Mapping[str, Any] | None = None) -> Any:
        raise NotImplementedError


def save_model(
    python_model: PythonModel,
    path: str | Path,
    *,
    artifacts: Mapping[str, str | Path] | None = None,
    code_paths: Iterable[str | Path] = (),
    model_config: Mapping[str, Any] | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    metadata: Mapping[str, Any] | None = None,
    extra_requirements: Iterable[str] = (),
) -> Manifest:
    if not isinstance(python_model, PythonModel):
        raise InvalidArgument(
            f"heron.pyfunc saves instances of heron.pyfunc.PythonModel subclasses, "
            f"got {type(python_model).__name__}"
        )
    directory = prepare_directory(path)
    code_names = copy_code_paths(code_paths, directory)
    reference = class_reference(type(python_model), code_names, directory)
    stored = _copy_artifacts(artifacts or {}, directory)
    config: dict[str, Any] = {
        "python_class": reference,
        "artifacts": stored,
        "model_config": dict(model_config or {}),
    }
    context = ModelContext(
        {name: str(directory / relative) for name, relative in stored.items()},
        dict(model_config or {}),
    )
    python_model.load_context(context)
    predict = _bound_predict(python_model, context)
    code_files = [p for p in (directory / "code").rglob("*.py")] if code_names else []
    return finish(
        directory,
        flavor=NAME,
        config=config,
        packages=PACKAGES,
        predict=lambda data: predict(data, None),
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        code_files=code_files,
        extra_requirements=extra_requirements,
    )


def _copy_artifacts(artifacts: Mapping[str, str | Path], directory: Path) -> dict[str, str]:
    stored = {}
    for name, source in artifacts.items():
        source = Path(source)
        if not name.isidentifier():
            raise InvalidArgument(f"artifact name {name!r} must be a simple identifier")
        if not source.exists():
            raise InvalidArgument(f"artifact {name!r}: {str(source)!r} does not exist")
        target = directory / ARTIFACTS_DIR / name / source.name
        target.parent.mkdir(parents=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        stored[name] = target.relative_to(directory).as_posix()
    return stored


def _context(path: Path, config: Mapping[str, Any]) -> ModelContext:
    artifacts = {}
    root = path.resolve()
    for name, relative in (config.get("artifacts") or {}).items():
        local = (path / str(relative)).resolve()
        if not local.is_relative_to(root):
            raise PermissionDenied(f"artifact {name!r} points outside the model folder")
        artifacts[str(name)] = str(local)
    return ModelContext(artifacts, dict(config.get("model_config") or {}))


def load_native(path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    if "mlflow_python_model" in config:
        from heron.models.mlflow_dir import load_mlflow_python_model

        context = _context(path, config)
        loaded = load_mlflow_python_model(path, config, options, context)
        _contexts[loaded] = context
        return loaded
    cls = import_from_model_code(str(config.get("python_class", "")), path)
    if not (isinstance(cls, type) and issubclass(cls, PythonModel)):
        raise PermissionDenied(
            f"{config.get('python_class')!r} is not a heron.pyfunc.PythonModel subclass"
        )
    model = cls()
    context = _context(path, config)
    model.load_context(context)
    _contexts[model] = context
    return model


def predictor(native: Any, config: Mapping[str, Any]) -> PredictFn:
    return _bound_predict(native, None)


def _bound_predict(model: Any, context: ModelContext | None) -> PredictFn:
    """Call ``predict`` with the arguments it declares (MLflow's models take a context)."""
    parameters = list(inspect.signature(model.predict).parameters)
    takes_context = bool(parameters) and parameters[0] == "context"
    takes_params = "params" in parameters
    method = model.predict
    ctx = context if context is not None else _contexts.get(model)

    def predict(data: Any, params: Mapping[str, Any] | None) -> Any:
        args: list[Any] = [ctx, data] if takes_context else [data]
        if takes_params:
            return method(*args, params=params)
        return method(*args)

    return predict
