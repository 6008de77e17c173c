"""The Python environment a model was saved in, and how the running one differs.

Recorded: the Python version, the exact versions of the packages the flavor needs and
of those the user's code imports (found by reading the ``import`` statements of the
training script and of the model's code files), and the git commit of the training
code with a dirty flag.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import platform
import sys
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from heron.client.context import current_source, source_git_commit


class EnvironmentMismatchWarning(UserWarning):
    """The running Python or package versions differ from those the model was saved with."""


@functools.lru_cache(maxsize=1)
def _distributions_by_module() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def imported_distributions(files: Iterable[Path]) -> set[str]:
    """Distributions providing the top-level modules that these Python files import."""
    modules: set[str] = set()
    for file in files:
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue  # not Python we can read: nothing to record from it
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    by_module = _distributions_by_module()
    found: set[str] = set()
    for module in modules - set(sys.stdlib_module_names):
        found.update(by_module.get(module, ()))
    return found


def capture(
    flavor_packages: Iterable[str],
    code_files: Iterable[Path] = (),
    extra_requirements: Iterable[str] = (),
) -> dict[str, Any]:
    """The environment section of a manifest, for a model saved now."""
    source = current_source()
    files = [*code_files]
    if source != "<interactive>":
        files.append(Path(source))
    names = {"heron-ml", *flavor_packages, *imported_distributions(files)}
    packages = {}
    for name in sorted(names, key=str.lower):
        version = installed_version(name)
        if version is not None:
            packages[name] = version
    commit = source_git_commit(source)
    git = None
    if commit is not None:
        git = {"commit": commit.removesuffix("-dirty"), "dirty": commit.endswith("-dirty")}
    return {
        "python": platform.python_version(),
        "packages": packages,
        "extra_requirements": list(extra_requirements),
        "git": git,
    }


def differences(environment: Mapping[str, Any]) -> list[str]:
    """How the running environment differs from the recorded one, one line per package."""
    lines = []
    recorded_python = str(environment.get("python") or "")
    running_python = platform.python_version()
    if recorded_python and recorded_python.split(".")[:2] != running_python.split(".")[:2]:
        lines.append(f"python {recorded_python} recorded, {running_python} running")
    for name, version in (environment.get("packages") or {}).items():
        running = installed_version(name)
        if running is None:
            lines.append(f"{name}=={version} recorded, not installed")
        elif running != version:
            lines.append(f"{name}=={version} recorded, {running} running")
    return lines


def warn_on_differences(environment: Mapping[str, Any], where: str) -> None:
    lines = differences(environment)
    if lines:
        warnings.warn(
            f"model {where} was saved in another environment: "
            + "; ".join(lines)
            + ". Predictions may differ; `heron models env` writes its requirements.",
            EnvironmentMismatchWarning,
            stacklevel=3,
        )


def requirements_txt(environment: Mapping[str, Any]) -> str:
    pins = [f"{name}=={version}" for name, version in (environment.get("packages") or {}).items()]
    return "\n".join([*pins, *(environment.get("extra_requirements") or [])]) + "\n"


def python_env_yaml(environment: Mapping[str, Any]) -> str:
    """MLflow's ``python_env.yaml`` layout, so ``mlflow`` tooling can rebuild it too."""
    import yaml

    document = {
        "python": environment.get("python") or platform.python_version(),
        "build_dependencies": ["pip", "setuptools", "wheel"],
        "dependencies": ["-r requirements.txt"],
    }
    return yaml.safe_dump(document, sort_keys=False)
