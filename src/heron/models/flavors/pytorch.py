"""PyTorch flavor: an exported program (``torch.export``), or a state dict plus code.

TorchScript is deprecated as of torch 2.9 (``torch.jit.script`` warns), so the
self-contained form is ``torch.export``'s ``.pt2``. The state-dict form ships the
module's class in ``code/`` and loads the weights with ``weights_only=True``, which
refuses anything but tensors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidArgument, PermissionDenied
from heron.models.code import class_reference, copy_code_paths, import_from_model_code
from heron.models.flavors import LoadOptions, PredictFn, require
from heron.models.manifest import Manifest
from heron.models.save import finish, prepare_directory
from heron.models.signature import Signature

NAME = "pytorch"
PACKAGES: tuple[str, ...] = ("torch", "numpy")
EXPORT_FILE = "model.pt2"
STATE_FILE = "state_dict.pt"


def save_model(
    model: Any,
    path: str | Path,
    *,
    serialization: str = "export",
    input_example: Any = None,
    init_kwargs: Mapping[str, Any] | None = None,
    code_paths: Iterable[str | Path] = (),
    signature: Signature | None = None,
    metadata: Mapping[str, Any] | None = None,
    extra_requirements: Iterable[str] = (),
) -> Manifest:
    torch = require("torch", "pytorch")
    if not isinstance(model, torch.nn.Module):
        raise InvalidArgument(f"heron.pytorch saves a torch.nn.Module, not {type(model).__name__}")
    if serialization not in ("export", "state_dict"):
        raise InvalidArgument("serialization must be 'export' or 'state_dict'")
    directory = prepare_directory(path)
    model.eval()
    config: dict[str, Any] = {"serialization": serialization}
    code_files: list[Path] = []
    if serialization == "export":
        if not isinstance(input_example, np.ndarray):
            raise InvalidArgument(
                "serialization='export' traces the model on input_example: pass a numpy array"
            )
        example = torch.from_numpy(np.ascontiguousarray(input_example))
        batch = {0: torch.export.Dim.AUTO}
        program = torch.export.export(model, (example,), dynamic_shapes=(batch,))
        torch.export.save(program, str(directory / EXPORT_FILE))
        config["data"] = EXPORT_FILE
    else:
        code_names = copy_code_paths(code_paths, directory)
        config["module_class"] = class_reference(type(model), code_names, directory)
        config["init_kwargs"] = dict(init_kwargs or {})
        torch.save(model.state_dict(), directory / STATE_FILE)
        config["data"] = STATE_FILE
        code_files = list((directory / "code").rglob("*.py"))
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
        code_files=code_files,
        extra_requirements=extra_requirements,
    )


def load_native(path: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    torch = require("torch", "pytorch")
    data = path / str(config.get("data", ""))
    if not data.resolve().is_relative_to(path.resolve()) or not data.is_file():
        raise InvalidArgument(f"pytorch model file {data.name!r} is missing from {path}")
    if config.get("serialization") == "export":
        return torch.export.load(str(data)).module()
    cls = import_from_model_code(str(config.get("module_class", "")), path)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise PermissionDenied(f"{config.get('module_class')!r} is not a torch.nn.Module")
    module = cls(**dict(config.get("init_kwargs") or {}))
    module.load_state_dict(torch.load(data, weights_only=True))
    module.eval()
    return module


def predictor(native: Any, config: Mapping[str, Any]) -> PredictFn:
    import torch

    def predict(data: Any, params: Mapping[str, Any] | None) -> Any:
        if hasattr(data, "to_numpy"):
            data = data.to_numpy()
        tensor = torch.from_numpy(np.ascontiguousarray(data))
        with torch.no_grad():
            output = native(tensor)
        return output.detach().numpy()

    return predict
