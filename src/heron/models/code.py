"""User code shipped inside a model (``code/``), and the one way to import from it.

A manifest may name a class to load (a pyfunc model, a PyTorch module) only as
``module:QualName`` where ``module`` is a file or package inside the model's own
``code/`` folder, whose bytes the manifest's hashes cover. It can never make the loader
import an installed module such as ``os`` or ``subprocess``.
"""

from __future__ import annotations

import importlib
import inspect
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from heron.errors import InvalidArgument, PermissionDenied

CODE_DIR = "code"


def copy_code_paths(paths: Iterable[str | Path], model_dir: Path) -> list[str]:
    """Copy files and packages into ``code/``; returns their names there."""
    target = model_dir / CODE_DIR
    names = []
    for raw in paths:
        source = Path(raw)
        if not source.exists():
            raise InvalidArgument(f"code path {str(raw)!r} does not exist")
        target.mkdir(exist_ok=True)
        destination = target / source.name
        if destination.exists():
            raise InvalidArgument(f"two code paths are named {source.name!r}; rename one")
        if source.is_dir():
            shutil.copytree(
                source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, destination)
        names.append(source.name)
    return names


def class_reference(cls: type, code_names: list[str], model_dir: Path) -> str:
    """``module:QualName`` for ``cls``, adding its module's file to code/ if it is not there."""
    module_name = cls.__module__
    if module_name == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidArgument(
            f"{cls.__qualname__} is defined in a script or function, so it cannot be imported "
            "when the model is loaded; define it in a module file and pass that file in "
            "code_paths"
        )
    top = module_name.split(".")[0]
    if top not in {Path(n).stem for n in code_names}:
        file = inspect.getsourcefile(sys.modules[top]) if top in sys.modules else None
        if file is None:
            raise InvalidArgument(f"cannot find the source of module {top!r}; add it to code_paths")
        package = Path(file)
        source = package.parent if package.name == "__init__.py" else package
        code_names.extend(copy_code_paths([source], model_dir))
    return f"{module_name}:{cls.__qualname__}"


def import_from_model_code(reference: str, model_dir: Path) -> Any:
    """The object named ``module:QualName``, imported only from the model's own code."""
    module_name, _, qualname = reference.partition(":")
    top = module_name.split(".")[0]
    code_dir = (model_dir / CODE_DIR).resolve()
    candidates = (code_dir / f"{top}.py", code_dir / top / "__init__.py")
    if not qualname or not top.isidentifier() or not any(c.is_file() for c in candidates):
        raise PermissionDenied(
            f"the manifest names {reference!r}, which is not in the model's code/ folder; "
            "Heron imports classes only from code shipped with the model"
        )
    loaded = sys.modules.get(top)
    loaded_file = getattr(loaded, "__file__", None)
    if loaded is not None and _same_code(loaded_file, code_dir, top):
        # Saved and loaded in one process: the module imported at training time is the
        # very code the model ships, byte for byte, so it is used as it is.
        return _resolve(
            loaded if module_name == top else importlib.import_module(module_name),
            qualname,
            module_name,
        )
    if loaded is not None and not _inside(loaded_file, code_dir):
        raise InvalidArgument(
            f"a module named {top!r} is already imported from {loaded.__file__}; the model's "
            f"own {top!r} cannot be loaded in this process (rename the model's module)"
        )
    if str(code_dir) not in sys.path:
        # Appended rather than inserted first: a model's module must never shadow an
        # installed one that other code in this process imports later.
        sys.path.append(str(code_dir))
    module = importlib.import_module(module_name)
    if not _inside(getattr(module, "__file__", None), code_dir):
        raise PermissionDenied(f"{module_name!r} resolved outside the model's code/ folder")
    return _resolve(module, qualname, module_name)


def _resolve(module: Any, qualname: str, module_name: str) -> Any:
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise InvalidArgument(f"{module_name!r} in the model's code has no {qualname!r}")
    return found


def _same_code(file: str | None, code_dir: Path, top: str) -> bool:
    if file is None:
        return False
    loaded = Path(file)
    shipped = (
        code_dir / top / "__init__.py" if loaded.name == "__init__.py" else code_dir / f"{top}.py"
    )
    if not shipped.is_file() or not loaded.is_file():
        return False
    if loaded.name != "__init__.py":
        return loaded.read_bytes() == shipped.read_bytes()
    return all(
        (loaded.parent / p.relative_to(shipped.parent)).is_file()
        and (loaded.parent / p.relative_to(shipped.parent)).read_bytes() == p.read_bytes()
        for p in shipped.parent.rglob("*.py")
    )


def _inside(file: str | None, folder: Path) -> bool:
    return file is not None and Path(file).resolve().is_relative_to(folder)
